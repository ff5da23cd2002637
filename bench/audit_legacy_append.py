"""The audit append as it was before chain heads (audit migration 0008), kept only so that
bench/audit_bench.py can time the two in the same run: an advisory lock (a statement of its
own), then the chain's newest event looked up by ``ORDER BY id DESC LIMIT 1``, which on the
month-partitioned table reads every partition's (agency, id) index, then the insert.

Its events follow the chain's head exactly as the current append's do, so the head trigger
takes them (its cost is in both arms alike). Not used by the product.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

_LOCK_CLASS = 0x41554449
_HEAD_SQL = """
    SELECT (SELECT hash FROM audit_auditevent WHERE agency_id = %s ORDER BY id DESC LIMIT 1),
           clock_timestamp(), host(%s::inet), %s::jsonb::text
"""


def legacy_append(
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
):
    """audit.chain.append's signature; agency chains only (the benchmark's)."""
    from django.db import connection, transaction

    from audit import chain, registry
    from audit.models import AuditEvent

    assert agency_id, "the legacy append is measured on an agency's chain"
    registry.get(action)
    details_json = json.dumps(chain._clean_details(details or {}), allow_nan=False)
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, agency_id])
            cursor.execute(_HEAD_SQL, [agency_id, chain._valid_ip(ip), details_json])
            prev_hash, now, stored_ip, stored_details = cursor.fetchone()
            prev_hash = prev_hash or chain.GENESIS_HASH
        event = AuditEvent(
            agency_id=agency_id,
            actor_id=actor_id,
            acting_as_grant_id=acting_as_grant_id,
            action=action,
            target_type=chain._clean_text(target_type)[:80],
            target_id=chain._clean_text(str(target_id))[:64],
            ip=stored_ip,
            user_agent=chain._clean_text(user_agent or "")[:512],
            request_id=chain._clean_text(request_id or "")[:64],
            created_at=now,
            details=json.loads(stored_details),
            prev_hash=prev_hash,
        )
        event.hash = chain.event_hash(event, prev_hash)
        with connection.cursor() as cursor:
            cursor.execute(
                chain._INSERT_SQL,
                [
                    event.agency_id,
                    event.actor_id,
                    event.acting_as_grant_id,
                    event.action,
                    event.target_type,
                    event.target_id,
                    event.ip,
                    event.user_agent,
                    event.request_id,
                    event.created_at,
                    stored_details,
                    event.prev_hash,
                    event.hash,
                ],
            )
            (event.pk,) = cursor.fetchone()
        event._state.adding = False
        event._state.db = connection.alias
    return event
