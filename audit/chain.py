"""Writing to and verifying the per-agency SHA-256 chains of the audit log.

Each event's hash covers every stored field and the previous event's hash, so changing,
removing or reordering any row breaks the chain from that row on; ``audit_verify`` names the
first broken link. Writers of one chain are serialised by a transaction-level advisory lock,
so two concurrent requests can never both chain onto the same previous event (a fork).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from audit import registry
from audit.models import AuditArchive, AuditEvent

GENESIS_HASH = "0" * 64
_LOCK_CLASS = 0x41554449  # "AUDI": the advisory-lock namespace of the audit chains
# In one round trip: the chain's newest hash, the database clock, and the IP address and
# details exactly as PostgreSQL will hand them back (its inet and jsonb forms), so the
# hash computed now is the hash audit_verify recomputes later. Two spellings of the head
# lookup, so each can use the (agency_id, id DESC) index (IS NOT DISTINCT FROM could not).
_HEAD_SQL = """
    SELECT (SELECT hash FROM audit_auditevent WHERE agency_id = %s ORDER BY id DESC LIMIT 1),
           clock_timestamp(), host(%s::inet), %s::jsonb::text
"""
_PLATFORM_HEAD_SQL = """
    SELECT (SELECT hash FROM audit_auditevent WHERE agency_id IS NULL ORDER BY id DESC LIMIT 1),
           clock_timestamp(), host(%s::inet), %s::jsonb::text
"""


def _valid_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def _clean_text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; a request path or header may.
    return value.replace("\x00", "\ufffd")


def _clean_details(value: object) -> object:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_details(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_details(v) for v in value]
    return value


def _canonical(event: AuditEvent) -> bytes:
    created_at = event.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    body = {
        "agency": event.agency_id,
        "actor": event.actor_id,
        "acting_as_grant": event.acting_as_grant_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "created_at": created_at,
        "details": event.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + _canonical(event)).hexdigest()


def _chain(agency_id: int | None) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(agency_id=agency_id)
        if agency_id
        else AuditEvent.objects.filter(agency__isnull=True)
    )


def append(
    action: str,
    *,
    agency_id: int | None,
    actor_id: int | None = None,
    target_type: str = "",
    target_id: str = "",
    details: Mapping[str, object] | None = None,
    ip: str | None = None,
    user_agent: str = "",
    request_id: str = "",
    acting_as_grant_id: int | None = None,
) -> AuditEvent:
    """Chain one event. Runs inside the caller's transaction, so it commits or rolls back
    with the change it records."""
    registry.get(action)  # unknown codes raise before anything is written
    # NaN and infinities have no JSON form: refuse them here, with a clear error.
    details_json = json.dumps(_clean_details(details or {}), allow_nan=False)
    # No savepoint: the event belongs to the caller's transaction, and if this fails the
    # caller's change must fail with it.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            # The lock is a statement of its own: in READ COMMITTED a statement sees rows
            # committed before it started, so the read below must start after the wait.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, agency_id or 0])
            values = [_valid_ip(ip), details_json]
            if agency_id:
                cursor.execute(_HEAD_SQL, [agency_id, *values])
            else:
                cursor.execute(_PLATFORM_HEAD_SQL, values)
            prev_hash, now, stored_ip, stored_details = cursor.fetchone()
            prev_hash = prev_hash or GENESIS_HASH
        event = AuditEvent(
            agency_id=agency_id,
            actor_id=actor_id,
            acting_as_grant_id=acting_as_grant_id,
            action=action,
            target_type=_clean_text(target_type)[:80],
            target_id=_clean_text(str(target_id))[:64],
            ip=stored_ip,
            user_agent=_clean_text(user_agent or "")[:512],
            request_id=_clean_text(request_id or "")[:64],
            created_at=now,
            details=json.loads(stored_details),
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event, prev_hash)
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    agency_id: int | None
    events: int
    first_broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(agency_id: int | None) -> ChainReport:
    """Recompute one chain from its start; stop at the first event that does not match.

    The caller must have set the chain's tenant context (audit_verify does)."""
    prev_hash = GENESIS_HASH
    count = 0
    events: Iterator[AuditEvent] = _chain(agency_id).order_by("id").iterator(chunk_size=2000)
    for event in events:
        if count == 0 and event.prev_hash != GENESIS_HASH:
            # Older months were archived (audit/retention.py): the chain goes on from the
            # newest archive's last hash, if the archives themselves link up from genesis.
            prev_hash, count, problem = _archived_start(agency_id, event.pk)
            if problem:
                return ChainReport(agency_id, count + 1, event.pk, problem)
        count += 1
        if event.prev_hash != prev_hash:
            return ChainReport(agency_id, count, event.pk, "previous-hash link does not match")
        if event_hash(event, prev_hash) != event.hash:
            return ChainReport(agency_id, count, event.pk, "contents do not match their hash")
        prev_hash = event.hash
    return ChainReport(agency_id, count)


def _archived_start(agency_id: int | None, first_online_id: int) -> tuple[str, int, str]:
    """(hash the first online event must follow, events archived before it, problem)."""
    archives = (
        AuditArchive.objects.filter(agency_id=agency_id)
        if agency_id
        else AuditArchive.objects.filter(agency__isnull=True)
    )
    prev_hash, count = GENESIS_HASH, 0
    for archive in archives.filter(verified_at__isnull=False, last_id__lt=first_online_id).order_by(
        "month"
    ):
        if archive.first_prev_hash != prev_hash:
            return prev_hash, count, f"archived month {archive.month:%Y-%m} does not link up"
        prev_hash, count = archive.last_hash, count + archive.events
    if count == 0:
        return prev_hash, count, "previous-hash link does not match"
    return prev_hash, count, ""


def set_chain_context(agency_id: int | None) -> None:
    """Point row-level security at one chain (the platform chain when agency_id is None)."""
    set_rls_context(agency_id, platform=agency_id is None)


def set_rls_context(agency_id: int | None, *, platform: bool) -> None:
    """Set, for the rest of the current transaction, which agency row-level security lets
    this connection see (and whether it sees platform rows). The one place the settings are
    written: the audit app is the lowest that needs them, and accounts.tenancy (above it)
    sets every request's and task's context through here."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
            [
                settings.TENANT_DB_SETTING,
                "" if agency_id is None else str(int(agency_id)),
                settings.PLATFORM_DB_SETTING,
                "on" if platform else "off",
            ],
        )


def verify_all(agency_ids: list[int]) -> list[ChainReport]:
    reports = []
    for agency_id in [None, *agency_ids]:
        with transaction.atomic():
            set_chain_context(agency_id)
            reports.append(verify_chain(agency_id))
    return reports
