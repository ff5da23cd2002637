"""Helpers of the audit tests: agencies whose events are committed (audit rows outlive the
test, so each such test has agencies of its own), and tampering as the database superuser
would (the table owner, with the append-only trigger switched off)."""

from __future__ import annotations

import json
import uuid

import audit
from accounts.models import Agency
from accounts.tenancy import agency_context
from audit import registry
from audit.chain import event_hash
from audit.models import AuditEvent
from tests.db_helpers import owner_connection, run_in_committed_thread

TEST_EVENT = "test.thing_happened"


def register_test_event() -> None:
    if TEST_EVENT not in {e.code for e in registry.all_event_types()}:
        registry.register(TEST_EVENT, "{actor} did a thing to {target}")


def unique_slug(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def committed_agency(prefix: str, events: int = 3) -> Agency:
    """An inactive agency committed outside the test's transaction, with ``events`` events."""
    register_test_event()
    slug = unique_slug(prefix)

    def create():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        for n in range(events):
            with agency_context(agency):
                audit.record(TEST_EVENT, agency=agency, details={"n": n})
        return agency

    return run_in_committed_thread(create)


def add_committed_events(agency: Agency, count: int) -> None:
    register_test_event()

    def add():
        for n in range(count):
            with agency_context(agency):
                audit.record(TEST_EVENT, agency=agency, details={"more": n})

    run_in_committed_thread(add)


def chain_events(agency: Agency) -> list[AuditEvent]:
    """Read on a connection of its own: a read in the test's transaction would hold a lock
    that the tampering below (ALTER TABLE) waits for until the test ends."""

    def read():
        with agency_context(agency):
            return list(AuditEvent.objects.filter(agency=agency).order_by("id"))

    return run_in_committed_thread(read)


def seal_committed():
    """Seal every chain on a connection of its own (the run's platform event commits, and
    the test's transaction holds no lock on the audit table)."""
    from audit.seals import services

    return run_in_committed_thread(services.seal_chains)


def _as_superuser(agency_id: int, statements: list[tuple[str, list]]) -> None:
    with owner_connection() as conn:
        conn.execute("SELECT set_config('app.agency_id', %s, false)", [str(agency_id)])
        conn.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update_delete")
        for sql, params in statements:
            conn.execute(sql, params)
        conn.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_update_delete")
        conn.commit()


def rewrite_and_rehash(agency: Agency, position: int, details: dict) -> None:
    """Change the details of the event at ``position`` (1-based) and recompute every later
    hash consistently, so the chain checks out on its own: only the seals can tell."""
    events = chain_events(agency)
    prev = events[position - 2].hash if position > 1 else "0" * 64
    statements = []
    for index, event in enumerate(events[position - 1 :]):
        if index == 0:
            event.details = details
        event.prev_hash = prev
        event.hash = event_hash(event, prev)
        prev = event.hash
        statements.append(
            (
                "UPDATE audit_auditevent SET details = %s::jsonb, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [json.dumps(event.details), event.prev_hash, event.hash, event.pk],
            )
        )
    _as_superuser(agency.pk, statements)


def delete_newest(agency: Agency, count: int) -> None:
    """Truncate the chain's tail: the newest ``count`` events."""
    ids = [event.pk for event in chain_events(agency)[-count:]]
    _as_superuser(agency.pk, [("DELETE FROM audit_auditevent WHERE id = ANY(%s)", [ids])])


def delete_chain(agency: Agency) -> None:
    _as_superuser(agency.pk, [("DELETE FROM audit_auditevent WHERE agency_id = %s", [agency.pk])])
