"""Background work the residents services ask for (accounts.jobs.enqueue, after commit)."""

from __future__ import annotations

from accounts.jobs import enqueue


def build_export(*, export_id: int) -> None:
    """Build a person's data export (a platform task: it reads each agency in turn)."""
    enqueue("residents.tasks.build_export", agency_id=None, export_id=export_id)
