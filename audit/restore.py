"""Restoring one archived month of one chain, read-only, for an investigation.

The archive is read back and verified exactly as before its month was dropped (manifest,
decryption with the agency's key, the chain recomputed), then loaded into its own table in
the ``audit_restore`` schema (migration 0006). Once loaded, the app role may only SELECT
from it, row-level security still shows each agency only its own rows, and the triggers
refuse UPDATE, DELETE and TRUNCATE as on the live log. The restore is itself an event on
the agency's chain.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection, transaction
from psycopg import sql
from psycopg.types.json import Jsonb

from audit import archive, audit_events
from audit.chain import append, set_chain_context
from audit.models import AuditArchive, AuditEvent
from vault.locations import archive_store, location_of
from vault.storage import BlobStore


def restored_table(agency_id: int | None, month: date) -> str:
    chain = f"agency_{agency_id}" if agency_id else "platform"
    return f"audit_restore.{chain}_{month:%Y_%m}"


def find_archive(agency_id: int | None, month: date) -> AuditArchive | None:
    """The chain's verified archive of ``month``; the caller has set the chain's context."""
    archives = (
        AuditArchive.objects.filter(agency_id=agency_id)
        if agency_id
        else AuditArchive.objects.filter(agency__isnull=True)
    )
    return archives.filter(month=month, verified_at__isnull=False).first()


def restore_archive(
    agency_id: int | None, month: date, *, store: BlobStore | None = None
) -> tuple[str, int]:
    """Restore the chain's archive of ``month``; returns (table name, events restored).
    Raises archive.ArchiveInvalid, or ArchiveKeyUnavailable when the agency's keys were
    destroyed (its archived log is unreadable, as intended)."""
    store = store or archive_store(location_of(agency_id))
    with transaction.atomic():
        set_chain_context(agency_id)
        row = find_archive(agency_id, month)
        if row is None:
            raise archive.ArchiveInvalid(f"no verified archive of {month:%Y-%m} for that chain")
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- catalogue lookup of the restore table; bound parameter
            cursor.execute(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'audit_restore' AND c.relname = %s",
                [restored_table(agency_id, month).split(".", 1)[1]],
            )
            if cursor.fetchone() is not None:
                raise archive.ArchiveInvalid(
                    f"it is already restored, in {restored_table(agency_id, month)}"
                )
        events = archive.read_verified(row, store)
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- owner-run function that opens a restore; bound values
            cursor.execute("SELECT audit_restore_open(%s, %s)", [agency_id, month])
            table = cursor.fetchone()[0]
            schema, name = table.split(".", 1)
            fields = AuditEvent._meta.concrete_fields
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(schema, name),
                sql.SQL(", ").join([sql.Identifier(str(f.column)) for f in fields]),
                sql.SQL(", ").join([sql.Placeholder() for _ in fields]),
            )
            rows: Any = [
                [
                    Jsonb(v) if f.attname == "details" else v
                    for f in fields
                    for v in [getattr(event, f.attname)]
                ]
                for event in events
            ]
            # nosemgrep: portal-raw-sql -- bulk insert into the restore table; names via psycopg.sql
            cursor.executemany(statement.as_string(cursor.connection), rows)
            # nosemgrep: portal-raw-sql -- owner-run function that closes the restore; bound values
            cursor.execute("SELECT audit_restore_close(%s, %s)", [agency_id, month])
        append(
            audit_events.ARCHIVE_RESTORED.code,
            agency_id=agency_id,
            target_type="audit.auditarchive",
            target_id=str(row.pk),
            details={"month": f"{month:%Y-%m}", "events": len(events), "table": table},
        )
    return table, len(events)


def drop_restored(agency_id: int | None, month: date) -> str:
    """Remove a restored month when the investigation is over."""
    with transaction.atomic(), connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- owner-run function that drops a restore; bound values
        cursor.execute("SELECT audit_restore_drop(%s, %s)", [agency_id, month])
        table: str = cursor.fetchone()[0]
    return table
