"""The expunge's background work, by task name (ops.tasks.run_expunge, maintenance queue),
sent when the approving transaction commits."""

from __future__ import annotations

from accounts.jobs import enqueue


def run_expunge(*, request_id: int) -> None:
    enqueue("ops.tasks.run_expunge", agency_id=None, request_id=request_id)
