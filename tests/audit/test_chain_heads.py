"""Chain heads (audit_chainhead, migration 0008): an append locks and reads its chain's head
in one statement, the insert's trigger moves it on in the same statement, the database
refuses an event that does not follow the head (a fork), nobody but those two functions
writes it, and audit_verify compares it with the chain instead of trusting it."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

import audit
from accounts.tenancy import agency_context
from audit.chain import GENESIS_HASH, verify_chain
from audit.models import AuditEvent
from tests.audit.helpers import (
    TEST_EVENT,
    add_committed_events,
    chain_events,
    committed_agency,
    delete_newest,
    register_test_event,
)
from tests.db_helpers import owner_connection, run_in_committed_thread

pytestmark = pytest.mark.django_db

register_test_event()

_COLUMNS = (
    "agency_id, action, target_type, target_id, user_agent, request_id, created_at, details, "
    "prev_hash, hash"
)
_ROW = "(%s, %s, '', '', '', '', clock_timestamp(), '{}'::jsonb, %s, %s)"
_INSERT = f"INSERT INTO audit_auditevent ({_COLUMNS}) VALUES {_ROW}"


def _head(agency_id: int) -> tuple[int, str, int] | None:
    """The head row as the owner sees it (every chain, no row-level security)."""
    with owner_connection() as conn:
        row = conn.execute(
            "SELECT last_id, last_hash, events FROM audit_chainhead WHERE chain = %s", [agency_id]
        ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def _newest(agency) -> tuple[int, str, int]:
    events = chain_events(agency)
    return events[-1].pk, events[-1].hash, len(events)


def test_each_append_moves_the_head_to_the_new_event(tenant):
    with agency_context(tenant.agency):
        first = audit.record(TEST_EVENT, agency=tenant.agency)
        second = audit.record(TEST_EVENT, agency=tenant.agency)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_id, last_hash, events FROM audit_chainhead WHERE chain = %s",
                [tenant.agency.pk],
            )
            head = cursor.fetchone()
        report = verify_chain(tenant.agency.pk)
    assert second.prev_hash == first.hash
    assert head[0] == second.pk and head[1] == second.hash
    assert head[2] == report.events
    assert report.ok and report.head_problem == ""


def test_the_platform_chain_has_its_head_too():
    def write():
        with agency_context(None, platform=True):
            return audit.record(TEST_EVENT, agency=None)

    event = run_in_committed_thread(write)
    head = _head(0)
    assert head is not None
    assert head[0] >= event.pk  # another test may have appended since


def test_concurrent_writers_keep_the_head_on_the_newest_event():
    agency = committed_agency("head-concurrent")
    writers, per_writer = 6, 12
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
    assert _head(agency.pk) == _newest(agency)
    assert _head(agency.pk)[2] == 3 + writers * per_writer
    with agency_context(agency):
        report = verify_chain(agency.pk)
    assert report.ok and report.head_problem == ""
    prev_hashes = [event.prev_hash for event in chain_events(agency)]
    assert len(set(prev_hashes)) == len(prev_hashes)


def test_writers_of_different_chains_do_not_wait_for_each_other(tenant, other_tenant):
    """One agency's writer holds its chain's head until it commits; another agency's
    append meanwhile goes through at once."""
    first = committed_agency("head-held")
    second = committed_agency("head-free")
    held, release = threading.Event(), threading.Event()

    def hold():
        with agency_context(first):
            audit.record(TEST_EVENT, agency=first)
            held.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=run_in_committed_thread, args=(hold,))
    holder.start()
    try:
        assert held.wait(timeout=30)

        def other():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            with agency_context(second):
                return audit.record(TEST_EVENT, agency=second)

        event = run_in_committed_thread(other)
        assert event.pk
    finally:
        release.set()
        holder.join(timeout=30)
    assert _head(first.pk) == _newest(first)
    assert _head(second.pk) == _newest(second)


def test_the_database_refuses_an_event_that_does_not_follow_the_head(tenant):
    with agency_context(tenant.agency):
        head = audit.record(TEST_EVENT, agency=tenant.agency)
        for prev_hash in [GENESIS_HASH, "f" * 64]:
            with (
                pytest.raises(IntegrityError, match="does not follow the chain's head"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(_INSERT, [tenant.agency.pk, TEST_EVENT, prev_hash, "a" * 64])
        # Following the head is accepted (the hash is checked by audit_verify, not here).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_INSERT, [tenant.agency.pk, TEST_EVENT, head.hash, "b" * 64])
        assert AuditEvent.objects.filter(agency=tenant.agency).count() == 2


def test_rows_of_one_insert_must_follow_one_another(tenant):
    with agency_context(tenant.agency):
        head = audit.record(TEST_EVENT, agency=tenant.agency)
        with (
            pytest.raises(IntegrityError, match="do not follow one another"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            # Two children of the same event in one statement: a fork inside the batch.
            cursor.execute(
                f"INSERT INTO audit_auditevent ({_COLUMNS}) VALUES {_ROW}, {_ROW}",
                [
                    *(tenant.agency.pk, TEST_EVENT, head.hash, "c" * 64),
                    *(tenant.agency.pk, TEST_EVENT, head.hash, "d" * 64),
                ],
            )
        assert AuditEvent.objects.filter(agency=tenant.agency).count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_chainhead SET last_hash = repeat('e', 64)",
        "DELETE FROM audit_chainhead",
    ],
)
def test_the_app_role_cannot_change_or_remove_a_head(tenant, statement):
    with agency_context(tenant.agency):
        audit.record(TEST_EVENT, agency=tenant.agency)
        with connection.cursor() as cursor:
            cursor.execute(statement)
            assert cursor.rowcount == 0  # no policy lets it touch a row
        report = verify_chain(tenant.agency.pk)
    assert report.ok and report.head_problem == ""


def test_the_app_role_cannot_plant_a_head(tenant):
    with (
        agency_context(tenant.agency),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO audit_chainhead (chain, last_id, last_hash, events) VALUES (%s, 0, %s, 0)",
            [tenant.agency.pk + 100000, GENESIS_HASH],
        )


def test_an_agency_reads_its_own_head_only(tenant, other_tenant):
    with agency_context(other_tenant.agency):
        audit.record(TEST_EVENT, agency=other_tenant.agency)
    with agency_context(tenant.agency):
        audit.record(TEST_EVENT, agency=tenant.agency)
        with connection.cursor() as cursor:
            cursor.execute("SELECT chain FROM audit_chainhead")
            chains = {row[0] for row in cursor.fetchall()}
    assert chains == {tenant.agency.pk}


def test_the_head_of_another_chain_cannot_be_locked(tenant, other_tenant):
    for chain in [other_tenant.agency.pk, None]:
        with (
            agency_context(tenant.agency),
            pytest.raises(DatabaseError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT * FROM audit_lock_chain_head(%s)", [chain])


def test_a_truncated_tail_stays_visible_in_the_chain_and_to_audit_verify(capsys):
    """A superuser deletes the newest events (triggers off): the head still names the last
    one, audit_verify says so without any seal, and the next append chains onto the deleted
    event, so the gap shows as a broken link too."""
    agency = committed_agency("head-truncated", events=5)
    deleted = chain_events(agency)[-1]
    delete_newest(agency, 2)
    with agency_context(agency):
        report = verify_chain(agency.pk)
    assert report.ok  # the walk alone cannot tell
    assert "the chain's head records 5 events" in report.head_problem
    with pytest.raises(CommandError):
        call_command("audit_verify")
    output = capsys.readouterr().out
    assert f"agency {agency.pk} ({agency.slug}): the chain's head records 5 events" in output

    add_committed_events(agency, 1)
    newest = chain_events(agency)[-1]
    assert newest.prev_hash == deleted.hash
    with agency_context(agency):
        report = verify_chain(agency.pk)
    assert report.first_broken_id == newest.pk
    assert report.reason == "previous-hash link does not match"


def test_the_migration_gives_chains_already_written_their_heads():
    """Migration 0008's backfill, run again (as the owner, rolled back): each chain's head
    is its newest event, and its length."""
    from importlib import import_module

    backfill = import_module("audit.migrations.0008_chain_heads").BACKFILL
    agency = committed_agency("head-backfill", events=4)
    with owner_connection() as conn:
        conn.execute("DELETE FROM audit_chainhead")
        conn.execute(backfill)
        row = conn.execute(
            "SELECT last_id, last_hash, events FROM audit_chainhead WHERE chain = %s",
            [agency.pk],
        ).fetchone()
        conn.rollback()
    assert (row[0], row[1], row[2]) == _newest(agency) == _head(agency.pk)
