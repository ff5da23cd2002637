"""The self-scan's background work, by task name (ops.tasks.self_scan), sent on commit."""

from __future__ import annotations

from accounts.jobs import enqueue


def self_scan(*, trigger: str, requested_by_id: int | None = None) -> None:
    enqueue("ops.tasks.self_scan", agency_id=None, trigger=trigger, requested_by_id=requested_by_id)
