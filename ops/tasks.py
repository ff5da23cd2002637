"""The backups' scheduled work (Celery beat, config/beat.py), on the ``maintenance`` queue."""

from datetime import UTC, datetime

from celery import shared_task

from audit.seals.services import alert
from ops import backups


@shared_task(acks_late=True, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)  # type: ignore[untyped-decorator]
def backup_database(*, agency_id: int | None = None, kind: str | None = None) -> dict[str, object]:
    """Daily: back up the database (monthly on the 1st, weekly on Mondays), then rotate. A
    failure alerts the operators (log, Sentry, email) and raises, so the run is seen failed."""
    chosen = kind or backups.kind_for(datetime.now(UTC))
    try:
        manifest = backups.take_backup(chosen)
    except backups.BackupError as error:
        alert("The database backup failed", [f"{chosen} backup: {error}"])
        raise
    return {"id": manifest.id, "kind": manifest.kind, "size": manifest.size}
