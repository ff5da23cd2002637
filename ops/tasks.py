"""The backups' scheduled work (Celery beat, config/beat.py), the self-scan and an approved
agency expunge, on the ``maintenance`` queue."""

import ctypes
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime

from celery import shared_task
from django.conf import settings

from accounts.models import User
from audit.seals.services import alert
from ops import backups
from ops.expunges import services as expunge_services
from ops.selfscan import services as selfscan_services

BACKUP_HOURS = 6


class BackupFailed(Exception):
    """The backup process failed; its reason is the message (the operators were told)."""


def _die_with_parent() -> None:
    """In the child, before it runs: SIGKILL it when the worker that started it dies
    (Linux's PR_SET_PDEATHSIG), so a killed worker leaves no backup running on its own."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


# Acknowledged on receipt: a backup can outlast the broker's visibility timeout, and a late
# acknowledgement would then hand it to a second worker while the first still runs. A worker
# killed mid-backup loses that run; the next schedule takes a new one and clears what the
# killed one left (tests/ops/test_backup_interrupted.py).
@shared_task(  # type: ignore[untyped-decorator]
    acks_late=False, soft_time_limit=BACKUP_HOURS * 3600, time_limit=BACKUP_HOURS * 3600 + 300
)
def backup_database(*, agency_id: int | None = None, kind: str | None = None) -> dict[str, object]:
    """Daily: back up the database (monthly on the 1st, weekly on Mondays), then rotate, in a
    process of its own without Django's apps (ops/backup_process.py: its memory stays small
    and flat). A failure alerts the operators (log, Sentry, email) and fails the task."""
    chosen = kind or backups.kind_for(datetime.now(UTC))
    done = subprocess.run(  # noqa: S603  # nosec B603  # fixed PostgreSQL tool or our own module, no shell
        [sys.executable, "-m", "ops.backup_process", "--kind", chosen],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=BACKUP_HOURS * 3600,
        preexec_fn=_die_with_parent,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        alert("The database backup failed", [f"{chosen} backup: {lines[-1]}"])
        raise BackupFailed(lines[-1])
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# The scan's parts have their own timeouts (pip-audit 600 s, the portal's page 20 s); late
# acknowledgement with a hard limit under the broker's visibility timeout (tests/jobs).
@shared_task(acks_late=True, soft_time_limit=1500, time_limit=1620)  # type: ignore[untyped-decorator]
def self_scan(
    *, agency_id: int | None = None, trigger: str = "schedule", requested_by_id: int | None = None
) -> dict[str, object]:
    """Weekly (beat) or asked for by an operator: the self-scan (ops/selfscan/)."""
    user = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    run = selfscan_services.self_scan_run(trigger=trigger, requested_by=user)
    return {"run": run.pk, "status": run.status}


# Late acknowledgement, with a hard limit under the broker's visibility timeout: a worker
# killed mid-expunge has its task handed out again, and the run resumes from what the last
# one left (ops/expunges/services.py; a second delivery while one runs finds it busy). Past
# the soft limit the task gives up waiting but the expunge's own thread goes on to its end in
# the worker's process (the message is acknowledged then): if that process dies before, the
# request shows no progress and "Run it again" on its page resumes it.
@shared_task(acks_late=True, soft_time_limit=1500, time_limit=1620)  # type: ignore[untyped-decorator]
def run_expunge(*, agency_id: int | None = None, request_id: int) -> str:
    """An approved expunge request's expunge (ops/expunge.py), as the tables' owner."""
    return expunge_services.expunge_request_run(request_id)
