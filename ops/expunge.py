"""Expunging an agency: every row of it, its blobs, its keys and its audit log, for good.

Run by ``manage.py agency_expunge <slug>`` as the role that owns the tables (docs/operations.md
"Expunging an agency"). In this order:

1. One transaction (all or nothing): the blobs to delete (its documents' and uploads'
   ciphertext, its escrow keys, its audit archives) are listed, written to a ledger in the
   default location's documents store (``expunged/<slug>.json``, naming the agency's storage
   location, where its blobs are) and then every row is deleted: every
   TenantOwned table and every platform table holding the agency's id, in dependency order
   (referencing tables first), its audit events (the append-only trigger stands down for
   this one statement of this one transaction: see ``_delete_audit_events``), its audit
   archives' rows, its chain head and the agency row itself. One platform audit event, on the
   platform chain, records the counts per table. A failure anywhere rolls every row back.
2. After the commit, the blobs: the escrow keys first (crypto-shredding: from that moment
   every copy of its documents' keys, in the live database and in every backup, opens
   nothing), then the documents' ciphertext and the archives, then the ledger.

A crash between the commit and the end of step 2 leaves the ledger: running the command again
with the slug finishes what blobs remain (deleting a blob already gone is no error). Blobs
are never deleted before the commit: a rolled-back expunge must leave every document
readable.

ops sits below documents, so the documents app tells this module which blobs an agency has
(``register_blob_source``, from documents.apps) instead of being imported here.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.apps import apps
from django.db import connection, models, transaction

import audit
from accounts.models import Agency, TenantOwned
from accounts.outbox.models import OutboxMessage
from accounts.tenancy import set_db_tenant
from audit.archive import manifest_name
from audit.audit_events import AGENCY_EXPUNGED
from audit.models import AuditArchive, AuditEvent
from vault.locations import DEFAULT_LOCATION, archive_store, documents_store, key_store
from vault.storage import BlobMissing, BlobStore

# The stores a blob can live in, by the name a blob source gives them (each takes the
# agency's storage location).
STORES: dict[str, Callable[[str], BlobStore]] = {
    "keys": key_store,
    "documents": documents_store,
    "archives": archive_store,
}
# Deleted in this order after the commit: the keys first, so the agency's data is unreadable
# everywhere even if the rest is interrupted.
STORE_ORDER = ("keys", "documents", "archives")

BlobSource = Callable[[int], Iterable[tuple[str, str]]]
_blob_sources: list[BlobSource] = []


def register_blob_source(source: BlobSource) -> None:
    """``source(agency_id)`` yields (store, name) of every blob the agency has: an app above
    ops (documents) registers one from its AppConfig.ready."""
    if source not in _blob_sources:
        _blob_sources.append(source)


class ExpungeError(Exception):
    """The agency cannot be expunged (unknown, already expunged, wrong role): nothing changed."""


@dataclass
class ExpungeResult:
    agency_id: int
    slug: str
    rows: dict[str, int] = field(default_factory=dict)
    blobs: dict[str, int] = field(default_factory=dict)
    finished_earlier_run: bool = False


class Progress(Protocol):
    """What a caller (the platform admin's expunge request, ops/expunges/) is told as the
    expunge goes."""

    def rows_deleted(self, result: ExpungeResult, blobs_total: int) -> None:
        """Inside the transaction, after every row is deleted and before the commit: what
        this writes commits (or rolls back) with the deletion."""

    def blobs_progress(self, handled: int, total: int, deleted: dict[str, int]) -> None:
        """After the commit, as blobs are deleted (``handled`` of ``total``, those already
        gone included)."""


def ledger_name(slug: str) -> str:
    return f"expunged/{slug.lower()}.json"  # storage names are lower-case


# --- Which tables ----------------------------------------------------------------------------


def agency_models() -> list[type[models.Model]]:
    """Every model with a foreign key to the agency (every TenantOwned model, and platform
    tables such as sessions and form submissions), referencing models before the models they
    reference. The audit log's own tables are handled apart (_delete_audit_log)."""
    special = {AuditEvent, AuditArchive, Agency}
    chosen = [
        model
        for model in apps.get_models()
        if model not in special
        and not model._meta.proxy
        and model._meta.managed
        and (issubclass(model, TenantOwned) or _agency_field(model) is not None)
    ]
    return _referencing_first(chosen)


def _agency_field(model: type[models.Model]) -> models.Field[Any, Any] | None:
    for f in model._meta.concrete_fields:
        if f.is_relation and f.many_to_one and f.related_model is Agency:
            return f
    return None


def _referencing_first(chosen: list[type[models.Model]]) -> list[type[models.Model]]:
    pending: dict[type[models.Model], set[type[models.Model]]] = {m: set() for m in chosen}
    for model in chosen:
        for f in model._meta.concrete_fields:
            target = f.related_model if f.is_relation else None
            if target in pending and target is not model:
                pending[target].add(model)  # ``model`` must go before ``target``
    ordered: list[type[models.Model]] = []
    while pending:
        ready = sorted(
            (m for m, before in pending.items() if not before), key=lambda m: m._meta.label
        )
        if not ready:  # a cycle: the rest in name order (the FKs are checked at commit)
            ready = sorted(pending, key=lambda m: m._meta.label)
        for model in ready:
            ordered.append(model)
            del pending[model]
        for before in pending.values():
            before.difference_update(ready)
    return ordered


# --- The expunge -----------------------------------------------------------------------------


def _check_role() -> None:
    from django.conf import settings

    if connection.settings_dict["USER"] == settings.DATABASE_APP_ROLE:
        raise ExpungeError(
            "an expunge runs as the role that owns the tables (PORTAL_DB_ROLE=owner): the app "
            "role may not delete audit events. Nothing was changed."
        )


def blobs_of(agency_id: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for source in _blob_sources:
        found.extend(source(agency_id))
    for archive in AuditArchive.objects.filter(agency_id=agency_id):
        found.append(("archives", archive.blob_name))
        found.append(("archives", manifest_name(agency_id, archive.month)))
    return sorted(set(found), key=lambda b: (STORE_ORDER.index(b[0]), b[1]))


def expunge_agency(
    slug: str,
    *,
    actor_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> ExpungeResult:
    """Expunge the agency ``slug`` (see the module's docstring). An agency already expunged
    whose blobs an interrupted run left behind: those are deleted. Unknown, or expunged and
    finished: ExpungeError, nothing changed. ``details`` are added to the platform's audit
    event (the expunge request's id); ``progress`` is told how it goes.

    Two runs at once for one agency (a task delivered twice) expunge it once: the agency's row
    is locked first, and the run that waited for it finds it gone and only finishes the
    blobs, as a rerun would."""
    _check_role()
    if not Agency.objects.filter(slug=slug).exists():
        return _finish_earlier_run(slug, progress)

    with transaction.atomic():
        agency = Agency.objects.select_for_update().filter(slug=slug).first()
        if agency is None:  # another run expunged it while this one waited for the lock
            leftover = None
        else:
            leftover = _expunge_rows(agency, slug, actor_id, details, progress)
    if leftover is None:
        return _finish_earlier_run(slug, progress)
    result, blobs, where = leftover
    result.blobs = _delete_blobs(slug, blobs, where=where, progress=progress)
    return result


def _finish_earlier_run(slug: str, progress: Progress | None) -> ExpungeResult:
    leftover = _read_ledger(slug)
    if leftover is None:
        raise ExpungeError(
            f"no agency {slug!r}: unknown, or already expunged. Nothing was changed."
        )
    result = ExpungeResult(leftover["agency_id"], slug, finished_earlier_run=True)
    blobs = [(str(s), str(n)) for s, n in leftover["blobs"]]
    where = str(leftover.get("location") or DEFAULT_LOCATION)
    result.blobs = _delete_blobs(slug, blobs, where=where, progress=progress)
    return result


def _expunge_rows(
    agency: Agency,
    slug: str,
    actor_id: int | None,
    details: Mapping[str, Any] | None,
    progress: Progress | None,
) -> tuple[ExpungeResult, list[tuple[str, str]], str]:
    """The transaction's part (the caller's ``atomic``, the agency's row locked); returns
    the result, the blobs and the storage location they are in (read before the row goes)."""
    result = ExpungeResult(agency.pk, slug)
    where = agency.storage_location
    set_db_tenant(agency.pk)
    blobs = blobs_of(agency.pk)
    for model in agency_models():
        deleted = _delete_rows(model, agency.pk)
        if deleted:
            result.rows[model._meta.db_table] = deleted
    result.rows.update(_delete_audit_log(agency.pk))
    # Tasks asked for and not yet relayed (a platform table; the agency is in kwargs).
    outbox = OutboxMessage.objects.filter(kwargs__agency_id=agency.pk)
    if queued := outbox._raw_delete(connection.alias):
        result.rows[OutboxMessage._meta.db_table] = queued
    result.rows["accounts_agency"] = Agency.objects.filter(pk=agency.pk)._raw_delete(
        connection.alias
    )
    set_db_tenant(None, platform=True)
    audit.record(
        AGENCY_EXPUNGED.code,
        agency=None,
        actor=actor_id,
        details={
            **(details or {}),
            "agency_id": agency.pk,
            "slug": slug,
            "rows": result.rows,
            "blobs": _count_by_store(blobs),
        },
    )
    if progress is not None:
        progress.rows_deleted(result, len(blobs))
    # Written last inside the transaction: a failure before this point leaves no ledger;
    # a failure of the commit leaves one for an agency still present, which the next
    # run (finding the agency) simply overwrites.
    _write_ledger(slug, agency.pk, blobs, where)
    return result, blobs, where


def _delete_rows(model: type[models.Model], agency_id: int) -> int:
    """One DELETE of the model's rows of the agency (no ORM cascade or PROTECT collection:
    every table is emptied of the agency anyway; foreign keys are checked at commit)."""
    found = None if issubclass(model, TenantOwned) else _agency_field(model)
    column = found.name if found is not None else "agency"
    query = model._base_manager.using(connection.alias).filter(**{column: agency_id})
    deleted: int = query._raw_delete(connection.alias)
    return deleted


def _delete_audit_log(agency_id: int) -> dict[str, int]:
    """The agency's audit events, archives' rows and chain head.

    The audit table refuses DELETE to everyone (trigger ``audit_no_update_delete``, migration
    0001, cloned onto every monthly partition). The table's owner may disable a trigger:
    ``ALTER TABLE ... DISABLE TRIGGER`` is transactional and takes an ACCESS EXCLUSIVE lock,
    so no other session ever runs while it is off (appends of every agency wait for this
    transaction), and it is enabled again before the commit, or rolled back with everything
    else. Row-level security still binds the owner (FORCE): the DELETE sees this agency's
    events only. Events of months already archived have no rows left (their partitions were
    dropped); their archives are deleted from storage after the commit."""
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        # The expunge's one bypass of the append-only trigger: as the owner, inside this
        # transaction only, undone below.
        # nosemgrep: portal-raw-sql -- owner DDL, constant text
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update_delete")
        counts["audit_auditevent"] = AuditEvent.objects.filter(agency_id=agency_id)._raw_delete(
            connection.alias
        )
        # nosemgrep: portal-raw-sql -- puts the append-only trigger back; constant text
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_update_delete")
        counts["audit_auditarchive"] = AuditArchive.objects.filter(agency_id=agency_id)._raw_delete(
            connection.alias
        )
        # nosemgrep: portal-raw-sql -- the chain head table has no model; bound parameter
        cursor.execute("DELETE FROM audit_chainhead WHERE chain = %s", [agency_id])
        counts["audit_chainhead"] = cursor.rowcount
        # Months restored from archives for an investigation (migration 0007): dropped with
        # the schema's own function, by month.
        # nosemgrep: portal-raw-sql -- catalog lookup of restored months; bound parameter
        cursor.execute(
            "SELECT to_date(substring(c.relname from '(\\d{4}_\\d{2})$'), 'YYYY_MM') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'audit_restore' AND c.relkind IN ('r', 'p') "
            "AND c.relname ~ ('^agency_' || %s || '_[0-9]{4}_[0-9]{2}$')",
            [str(agency_id)],
        )
        for (month,) in cursor.fetchall():
            # nosemgrep: portal-raw-sql -- the owner's drop function; bound parameters
            cursor.execute("SELECT audit_restore_drop(%s, %s)", [agency_id, month])
            counts["audit_restore tables"] = counts.get("audit_restore tables", 0) + 1
    return {table: n for table, n in counts.items() if n}


# --- Blobs and the ledger ----------------------------------------------------------------------


def _count_by_store(blobs: Iterable[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for store, _name in blobs:
        counts[store] = counts.get(store, 0) + 1
    return counts


def _write_ledger(slug: str, agency_id: int, blobs: list[tuple[str, str]], where: str) -> None:
    """The ledger (names and counts, nothing of the agency's content) is the platform's: it
    lies in the default location and names the agency's, where its blobs are."""
    body = json.dumps(
        {"agency_id": agency_id, "slug": slug, "location": where, "blobs": blobs}
    ).encode()
    documents_store(DEFAULT_LOCATION).write(ledger_name(slug), [body])


def _read_ledger(slug: str) -> dict[str, Any] | None:
    try:
        ledger: dict[str, Any] = json.loads(
            b"".join(documents_store(DEFAULT_LOCATION).read(ledger_name(slug)))
        )
    except (BlobMissing, ValueError):
        return None
    return ledger


def _delete_blobs(
    slug: str, blobs: list[tuple[str, str]], *, where: str, progress: Progress | None = None
) -> dict[str, int]:
    """Delete every blob (keys first), then the ledger. Returns the blobs deleted by store
    (those already gone are not counted)."""
    deleted: dict[str, int] = {}
    handled = 0
    for store_name in STORE_ORDER:
        store = STORES[store_name](where)
        for kind, name in blobs:
            if kind != store_name:
                continue
            handled += 1
            try:
                if store.exists(name):
                    store.delete(name)
                    deleted[store_name] = deleted.get(store_name, 0) + 1
            except BlobMissing:
                pass
            if progress is not None:
                progress.blobs_progress(handled, len(blobs), deleted)
    with contextlib.suppress(BlobMissing):
        documents_store(DEFAULT_LOCATION).delete(ledger_name(slug))
    return deleted


__all__ = [
    "AGENCY_EXPUNGED",
    "ExpungeError",
    "ExpungeResult",
    "agency_models",
    "blobs_of",
    "expunge_agency",
    "register_blob_source",
]
