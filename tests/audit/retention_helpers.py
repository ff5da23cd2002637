"""Helpers of the retention tests: events of a month long past, made as a writer then would
have made them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection

from accounts.tenancy import agency_context
from audit import registry, retention
from audit.chain import GENESIS_HASH, event_hash
from audit.models import AuditEvent

EVENT = "test.thing_happened"
if EVENT not in {e.code for e in registry.all_event_types()}:
    registry.register(EVENT, "{actor} did a thing to {target}")
MARKER = "Personnel file of the clerk"


def partition_of(month: date) -> str:
    return f"audit_auditevent_y{month:%Y}m{month:%m}"


def old_month() -> date:
    """A month that ended more than twelve months ago (fourteen months back)."""
    return retention.add_months(retention.current_month(), -14)


def make_old_events(agency_id: int, month: date, count: int) -> list[AuditEvent]:
    """``count`` chained events of ``month`` on a fresh agency's chain (from genesis), made
    as a writer would have made them then."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_ensure_month_partition(%s)", [month])
    events, prev_hash = [], GENESIS_HASH
    with agency_context(agency_id):
        assert not AuditEvent.objects.filter(agency_id=agency_id).exists()
        for n in range(count):
            event = AuditEvent(
                agency_id=agency_id,
                action=EVENT,
                target_type="documents.document",
                target_id=str(n),
                created_at=datetime(month.year, month.month, 3, tzinfo=UTC) + timedelta(hours=n),
                details={"n": n, "note": MARKER},
                prev_hash=prev_hash,
            )
            event.hash = event_hash(event, prev_hash)
            event.save(force_insert=True)
            events.append(event)
            prev_hash = event.hash
    return events
