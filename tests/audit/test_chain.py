"""The audit log: registry, hash chain, append-only enforcement, verification."""

import threading

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

import audit
from accounts.models import Agency
from accounts.tenancy import agency_context
from audit import registry
from audit.chain import GENESIS_HASH, event_hash, verify_chain
from audit.models import AuditEvent
from tests.db_helpers import owner_connection, run_in_committed_thread

pytestmark = pytest.mark.django_db

TEST_EVENT = "test.thing_happened"
if TEST_EVENT not in {e.code for e in registry.all_event_types()}:
    registry.register(TEST_EVENT, "{actor} did a thing to {target}")


def test_registering_a_code_twice_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        registry.register(TEST_EVENT, "again")


def test_recording_an_unregistered_action_raises_and_writes_nothing(tenant):
    with agency_context(tenant.agency):
        with pytest.raises(LookupError):
            audit.record("no.such.event", agency=tenant.agency)
        assert AuditEvent.objects.filter(agency=tenant.agency).count() == 0


def test_events_form_a_chain_per_agency(tenant, other_tenant):
    with agency_context(tenant.agency):
        first = audit.record(TEST_EVENT, agency=tenant.agency, actor=tenant.admin)
        second = audit.record(TEST_EVENT, agency=tenant.agency, details={"n": 2})
    with agency_context(other_tenant.agency):
        other = audit.record(TEST_EVENT, agency=other_tenant.agency)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert other.prev_hash == GENESIS_HASH  # its own chain, not agency A's
    assert second.hash == event_hash(second, first.hash)
    with agency_context(tenant.agency):
        report = verify_chain(tenant.agency.pk)
    assert report.ok and report.events == 2


def test_the_returned_event_is_the_stored_row_field_for_field(tenant):
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Agent/1.0")
    request.request_id = "req-1"
    with agency_context(tenant.agency):
        event = audit.record(
            TEST_EVENT,
            http_request=request,
            agency=tenant.agency,
            actor=tenant.admin,
            target=tenant.admin,
            details={"n": 1, "text": "café"},
            acting_as_grant_id=7,
        )
        stored = AuditEvent.objects.get(pk=event.pk)
    fields = [f.attname for f in AuditEvent._meta.concrete_fields]
    assert {f: getattr(event, f) for f in fields} == {f: getattr(stored, f) for f in fields}
    assert (stored.ip, stored.user_agent, stored.request_id) == ("10.1.2.3", "Agent/1.0", "req-1")
    assert stored.actor_id == tenant.admin.pk and stored.acting_as_grant_id == 7
    assert stored.target_id == str(tenant.admin.pk) and stored.details["text"] == "café"
    assert not event._state.adding
    with pytest.raises(PermissionError):
        event.save()  # already stored: append-only


def test_event_time_comes_from_the_database_clock(tenant):
    with agency_context(tenant.agency):
        event = audit.record(TEST_EVENT, agency=tenant.agency)
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            db_now = cursor.fetchone()[0]
    assert event.created_at.utcoffset().total_seconds() == 0
    assert 0 <= (db_now - event.created_at).total_seconds() < 5


def test_an_agency_context_cannot_write_into_another_agency_chain(tenant, other_tenant):
    with (
        agency_context(tenant.agency),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        audit.record(TEST_EVENT, agency=other_tenant.agency)


def test_orm_cannot_change_or_delete_an_event(tenant):
    with agency_context(tenant.agency):
        event = audit.record(TEST_EVENT, agency=tenant.agency)
        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="auth.login")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        event.refresh_from_db()
        assert event.action == TEST_EVENT


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_raw_sql_as_the_app_role_cannot_change_the_log(tenant, statement):
    with agency_context(tenant.agency):
        audit.record(TEST_EVENT, agency=tenant.agency)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
        assert AuditEvent.objects.filter(action=TEST_EVENT).count() == 1


def _committed_agency(slug: str) -> Agency:
    """An inactive agency committed outside the test's transaction, with three events."""

    def create():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        for n in range(3):
            with agency_context(agency):
                audit.record(TEST_EVENT, agency=agency, details={"n": n})
        return agency

    return run_in_committed_thread(create)


def _unique_slug(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_even_the_table_owner_is_refused_by_the_trigger(statement):
    agency = _committed_agency(_unique_slug("owner-refused"))
    with owner_connection(autocommit=True) as conn:
        conn.execute("SELECT set_config('app.agency_id', %s, false)", [str(agency.pk)])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
        count = conn.execute(
            "SELECT count(*) FROM audit_auditevent WHERE agency_id = %s", [agency.pk]
        ).fetchone()[0]
    assert count == 3


def _tamper(agency_id: int, sql: str) -> int:
    """Rewrite history the way only someone with the owner's keys could: switch the trigger off."""
    with owner_connection() as conn:
        conn.execute("SELECT set_config('app.agency_id', %s, false)", [str(agency_id)])
        target = conn.execute(
            "SELECT id FROM audit_auditevent WHERE agency_id = %s ORDER BY id OFFSET 1 LIMIT 1",
            [agency_id],
        ).fetchone()[0]
        conn.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update_delete")
        conn.execute(sql, [target])
        conn.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_update_delete")
        conn.commit()
    return target


def test_audit_verify_names_the_first_changed_event(capsys):
    agency = _committed_agency(_unique_slug("tampered"))
    target = _tamper(agency.pk, "UPDATE audit_auditevent SET details = '{\"n\": 99}' WHERE id = %s")
    with pytest.raises(CommandError, match="broken"):
        call_command("audit_verify")
    output = capsys.readouterr().out
    label = f"agency {agency.pk} ({agency.slug})"
    assert f"{label}: BROKEN at event {target} (contents do not match" in output


def test_audit_verify_names_the_event_after_a_deleted_one():
    agency = _committed_agency(_unique_slug("deleted"))
    removed = _tamper(agency.pk, "DELETE FROM audit_auditevent WHERE id = %s")
    with agency_context(agency):
        report = verify_chain(agency.pk)
    assert not report.ok
    assert report.first_broken_id > removed
    assert report.reason == "previous-hash link does not match"


def test_audit_verify_passes_on_intact_chains(tenant, capsys):
    with agency_context(tenant.agency):
        audit.record(TEST_EVENT, agency=tenant.agency)
    agency = _committed_agency(_unique_slug("intact"))
    with agency_context(agency):
        assert verify_chain(agency.pk).ok
    # Other tests leave deliberately broken chains behind, so check this agency's line only.
    with pytest.raises(CommandError) if _broken_chains_exist() else _nothing():
        call_command("audit_verify")
    assert f"agency {agency.pk} ({agency.slug}): 3 events, chain intact" in capsys.readouterr().out


def _broken_chains_exist() -> bool:
    for agency_id in Agency.objects.values_list("pk", flat=True):
        with agency_context(agency_id):
            if not verify_chain(agency_id).ok:
                return True
    return False


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_concurrent_writers_never_fork_a_chain():
    agency = _committed_agency(_unique_slug("concurrent"))
    writers, per_writer = 6, 15
    barrier = threading.Barrier(writers)

    def write():
        barrier.wait()
        for n in range(per_writer):
            with agency_context(agency):
                audit.record(TEST_EVENT, agency=agency, details={"n": n})

    threads = [
        threading.Thread(target=run_in_committed_thread, args=(write,)) for _ in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with agency_context(agency):
        report = verify_chain(agency.pk)
        prev_hashes = list(
            AuditEvent.objects.filter(agency=agency).values_list("prev_hash", flat=True)
        )
    assert report.ok
    assert report.events == 3 + writers * per_writer
    assert len(set(prev_hashes)) == len(prev_hashes)  # no two events share a parent


@pytest.mark.parametrize(
    "ip", ["::ffff:1.2.3.4", "::1.2.3.4", "2001:DB8::1", "127.0.0.1", "not-an-ip", None]
)
def test_ip_addresses_survive_the_round_trip_without_breaking_the_chain(tenant, ip):
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR=ip) if ip else None
    with agency_context(tenant.agency):
        audit.record(TEST_EVENT, agency=tenant.agency, http_request=request)
        assert verify_chain(tenant.agency.pk).ok


@pytest.mark.parametrize(
    "details",
    [
        {"big": 1e16, "huge": 1e100, "negative_zero": -0.0, "small": 1.5e-7},
        {"nul": "a\x00b", "nested": [{"k\x00": "v"}], "unicode": "café ✓"},
        {"actor": "reserved key", "target": 1},
    ],
)
def test_details_survive_the_round_trip_without_breaking_the_chain(tenant, details):
    with agency_context(tenant.agency):
        event = audit.record(TEST_EVENT, agency=tenant.agency, details=details)
        event.refresh_from_db()
        assert verify_chain(tenant.agency.pk).ok
    assert "\x00" not in str(event.details)


def test_details_that_have_no_json_form_are_refused_before_anything_is_written(tenant):
    with agency_context(tenant.agency):
        with pytest.raises(ValueError, match="JSON"):
            audit.record(TEST_EVENT, agency=tenant.agency, details={"x": float("nan")})
        assert AuditEvent.objects.filter(agency=tenant.agency).count() == 0


def test_event_descriptions_tolerate_any_details():
    event_type = registry.get(TEST_EVENT)
    text = event_type.describe(actor="Ann", target="7", details={"actor": "x", "target": "y"})
    assert text == "Test: thing happened (Ann)"


@pytest.mark.parametrize(
    "text", ['quote " backslash \\ newline \n tab \t', "\x01\x1f\x7f control", "café ✓ \u2028 𝄞"]
)
def test_text_fields_with_escapes_survive_the_walk(tenant, text):
    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_USER_AGENT=text)
    request.request_id = text[:64]
    with agency_context(tenant.agency):
        audit.record(TEST_EVENT, agency=tenant.agency, http_request=request, details={text: text})
        assert verify_chain(tenant.agency.pk).ok
