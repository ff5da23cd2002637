"""Retention of the audit log: one year online in monthly partitions, older months archived.

- ``ensure_partitions``: next months' partitions exist before their first event (the beat
  task runs it daily; three months ahead, so a stopped beat has months to be noticed).
- ``archive_month``: every chain's events of one month (UTC) go to storage as one encrypted
  archive per chain (audit/archive.py), each read back and verified before anything is
  dropped; then ``audit_drop_archived_partition`` (migration 0005) detaches and drops the
  month, and refuses unless every chain in it has a verified archive that matches it.
- ``maintain``: both, for every month that ended more than twelve months ago, oldest first.

Months are UTC calendar months of the database clock (``created_at``), one partition each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit import archive, audit_events
from audit.chain import append, set_chain_context
from audit.models import AuditArchive, AuditEvent
from vault.locations import archive_store, location_of
from vault.storage import BlobStore

MONTHS_ONLINE = 12
MONTHS_AHEAD = 3
_PARTITION = re.compile(r"^audit_auditevent_y(\d{4})m(\d{2})$")


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def ensure_months(first: date, last: date) -> None:
    """Partitions for every month from ``first``'s to ``last``'s (events written with times
    of their own: benchmarks, restores of old data)."""
    month = first.replace(day=1)
    with connection.cursor() as cursor:
        while month <= last:
            # nosemgrep: portal-raw-sql -- owner-run partition function; bound parameter
            cursor.execute("SELECT audit_ensure_month_partition(%s)", [month])
            month = add_months(month, 1)


def current_month() -> date:
    """This month (UTC) by the database clock, which stamps the events."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- the database clock's month (no ORM call); fixed SQL
        cursor.execute("SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date")
        month: date = cursor.fetchone()[0]
    return month


def ensure_partitions(ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make this month's and the next ``ahead`` months' partitions (those missing)."""
    first = current_month()
    names = []
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(ahead + 1):
            # nosemgrep: portal-raw-sql -- owner-run partition function; bound parameter
            cursor.execute("SELECT audit_ensure_month_partition(%s)", [add_months(first, offset)])
            names.append(cursor.fetchone()[0])
    return names


def online_months() -> list[date]:
    """The months whose partition is attached, oldest first."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- catalogue query for attached partitions; no input
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'audit_auditevent'::regclass ORDER BY c.relname"
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        if match := _PARTITION.match(name):
            months.append(date(int(match[1]), int(match[2]), 1))
    return months


def next_month_ready() -> bool:
    """Whether next month's partition exists. There is no default partition, so an event of
    a month without one cannot be written: the daily task keeps three months ahead, and the
    health check fails (config.views.healthz) once even next month is missing."""
    return add_months(current_month(), 1) in online_months()


def months_due() -> list[date]:
    """Online months that ended more than twelve months ago (by the database clock): to be
    archived, oldest first."""
    return [m for m in online_months() if _passed(add_months(m, 1 + MONTHS_ONLINE))]


def _passed(boundary: date) -> bool:
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- compares with the database clock; bound parameter
        cursor.execute("SELECT (%s::date)::timestamp AT TIME ZONE 'UTC' <= now()", [boundary])
        passed: bool = cursor.fetchone()[0]
    return passed


def _chain_events(agency_id: int | None, month: date) -> QuerySet[AuditEvent]:
    chain = (
        AuditEvent.objects.filter(agency_id=agency_id)
        if agency_id
        else AuditEvent.objects.filter(agency__isnull=True)
    )
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = add_months(month, 1)
    end = datetime(following.year, following.month, 1, tzinfo=UTC)
    return chain.filter(created_at__gte=start, created_at__lt=end).order_by("id")


def archive_chain_month(
    agency_id: int | None, month: date, *, store: BlobStore | None = None
) -> AuditArchive | None:
    """Export one chain's events of ``month`` and verify the archive reads back. Returns the
    verified archive (an existing verified one as it is), or None when the chain has no
    events that month. Raises archive.ArchiveInvalid if what was stored does not verify. The
    archive goes to the storage location of the chain's agency (the platform's: the default)."""
    store = store or archive_store(location_of(agency_id))
    with transaction.atomic():
        set_chain_context(agency_id)
        existing = (
            AuditArchive.objects.filter(agency_id=agency_id, month=month).first()
            if agency_id
            else AuditArchive.objects.filter(agency__isnull=True, month=month).first()
        )
        if existing is not None and existing.verified_at is not None:
            return existing
        events = _chain_events(agency_id, month)
        if not events.exists():
            return None
        manifest = archive.write(agency_id, month, events.iterator(chunk_size=2000), store)
        if existing is not None:  # an earlier attempt stored but did not verify: replace it
            AuditArchive.objects.filter(pk=existing.pk).delete()
        row = AuditArchive.objects.create(
            agency_id=agency_id,
            month=month,
            events=manifest["events"],
            first_id=manifest["first_id"],
            last_id=manifest["last_id"],
            first_prev_hash=manifest["first_prev_hash"],
            last_hash=manifest["last_hash"],
            blob_name=manifest["blob"],
            manifest=manifest,
            manifest_sha256=archive.manifest_digest(manifest),
        )
        archive.read_verified(row, store)  # raises before verified_at is ever set
        row.verified_at = timezone.now()
        row.save(update_fields=["verified_at"])
        return row


@dataclass(frozen=True)
class MonthArchived:
    month: date
    archives: list[AuditArchive]

    @property
    def events(self) -> int:
        return sum(a.events for a in self.archives)


def archive_month(
    month: date, agency_ids: list[int], *, store: BlobStore | None = None
) -> MonthArchived:
    """Archive every chain's events of ``month``, then detach and drop its partition (the
    database refuses unless each chain in it has a matching verified archive). Each chain's
    archive goes to its agency's storage location unless ``store`` names one for all."""
    archives = []
    for agency_id in [None, *agency_ids]:
        row = archive_chain_month(agency_id, month, store=store)
        if row is not None:
            archives.append(row)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- owner-run partition drop function; bound parameter
            cursor.execute("SELECT audit_drop_archived_partition(%s)", [month])
        for row in archives:
            set_chain_context(row.agency_id)
            append(
                audit_events.MONTH_ARCHIVED.code,
                agency_id=row.agency_id,
                target_type="audit.auditarchive",
                target_id=str(row.pk),
                details={"month": f"{month:%Y-%m}", "events": row.events},
            )
    return MonthArchived(month, archives)


def maintain(agency_ids: list[int], *, store: BlobStore | None = None) -> list[MonthArchived]:
    """The daily task: partitions ahead, then every month past the year online archived and
    dropped, oldest first (a month that fails stops the run: the chain stays contiguous)."""
    ensure_partitions()
    return [archive_month(month, agency_ids, store=store) for month in months_due()]
