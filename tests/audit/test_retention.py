"""Retention of the audit log: monthly partitions that keep every guarantee of the log
(append-only, row-level security) even when queried by name; months past the year online
archived encrypted under the agency's key, verified, then dropped; the chain still verifies
across the archived months; an archive restored read-only; shredding makes it unreadable."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

import audit
from accounts.tenancy import agency_context
from audit import archive, retention
from audit.archive_keys import ArchiveKeyUnavailable
from audit.chain import GENESIS_HASH, verify_chain
from audit.models import AuditArchive, AuditEvent
from audit.restore import restore_archive
from documents import keys
from tests.audit.retention_helpers import EVENT, MARKER, make_old_events, old_month, partition_of
from tests.db_helpers import owner_connection
from tests.factories import AgencyFactory
from vault.locations import archive_store

pytestmark = pytest.mark.django_db


def fetch(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.fixture
def archived_agency(db):
    """A fresh agency with five events fourteen months ago, and one now."""
    agency = AgencyFactory(slug="archived-agency")
    month = old_month()
    old = make_old_events(agency.pk, month, 5)
    with agency_context(agency):
        audit.record(EVENT, agency=agency, details={"month": "now"})
    return agency, month, old


# --- Partitions --------------------------------------------------------------------------


def test_the_log_is_partitioned_by_month_and_partitions_are_made_ahead():
    ((kind,),) = fetch("SELECT relkind FROM pg_class WHERE relname = 'audit_auditevent'")
    assert kind == "p"
    names = retention.ensure_partitions(ahead=5)
    current = retention.current_month()
    assert names == [partition_of(retention.add_months(current, n)) for n in range(6)]
    assert set(names) <= {partition_of(m) for m in retention.online_months()}
    # The primary key and the unique hash hold the partition key; indexes carried over.
    ((pkey,),) = fetch(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'audit_auditevent'::regclass AND contype = 'p'"
    )
    assert pkey == "PRIMARY KEY (id, created_at)"
    indexes = {
        name
        for (name,) in fetch("SELECT indexname FROM pg_indexes WHERE tablename = %s", [names[-1]])
    }
    assert len(indexes) >= 6  # each of the parent's indexes, on the new partition too


def test_every_partition_is_under_forced_rls_append_only_and_only_readable_by_name():
    retention.ensure_partitions()
    rows = fetch(
        """
        SELECT c.relname, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'),
               has_table_privilege(current_user, c.oid, 'SELECT'),
               has_table_privilege(current_user, c.oid, 'INSERT'),
               has_table_privilege(current_user, c.oid, 'UPDATE'),
               has_table_privilege(current_user, c.oid, 'DELETE'),
               has_table_privilege(current_user, c.oid, 'TRUNCATE'),
               (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname
                  AND p.qual LIKE '%%portal_current_agency()%%'),
               (SELECT array_agg(t.tgname ORDER BY t.tgname) FROM pg_trigger t
                  WHERE t.tgrelid = c.oid)
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_auditevent'::regclass
        """
    )
    assert len(rows) >= 4
    for name, forced, comment, sel, ins, upd, dele, trunc, policies, triggers in rows:
        assert forced, name
        assert comment.startswith("append-only"), name
        assert (sel, ins, upd, dele, trunc) == (True, False, False, False, False), name
        assert policies == 1, name
        assert triggers == ["audit_no_truncate", "audit_no_update_delete"], name


def test_a_partition_queried_by_name_still_isolates_agencies(tenant, other_tenant):
    with agency_context(tenant.agency):
        audit.record(EVENT, agency=tenant.agency)
    with agency_context(other_tenant.agency):
        audit.record(EVENT, agency=other_tenant.agency)
    part = partition_of(retention.current_month())
    with agency_context(tenant.agency):
        seen = {a for (a,) in fetch(f"SELECT DISTINCT agency_id FROM {part}")}
    assert seen == {tenant.agency.pk}
    with transaction.atomic():  # no context: nothing
        assert fetch(f"SELECT count(*) FROM {part}") == [(0,)]
    # Nor can the app role write into a partition by name (rows go through the parent).
    with (
        agency_context(tenant.agency),
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
    ):
        fetch(
            f"INSERT INTO {part} (id, agency_id, action, target_type, target_id, "
            "user_agent, request_id, created_at, details, prev_hash, hash) VALUES (-1, "
            "%s, 'x', '', '', '', '', now(), '{}', '', 'forged')",
            [tenant.agency.pk],
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {part} SET action = 'forged'",
        "DELETE FROM {part}",
        "TRUNCATE {part}",
    ],
)
def test_a_partition_refuses_change_even_to_the_table_owner(statement):
    part = partition_of(retention.current_month())
    # The app role has no such privilege at all.
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        fetch(statement.format(part=part))
    # The owner has, and the partition's triggers still refuse (on a row of its own, in a
    # transaction rolled back).
    with owner_connection() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.agency_id', '987654321', true)")
        cursor.execute(
            "INSERT INTO audit_auditevent (agency_id, action, target_type, target_id, "
            "user_agent, request_id, created_at, details, prev_hash, hash) VALUES "
            "(987654321, 'x', '', '', '', '', now(), '{}', repeat('0', 64), 'owner-made')"
        )
        with pytest.raises(Exception, match="append-only"):
            cursor.execute(
                statement.format(part=part)
                + (" WHERE hash = 'owner-made'" if "TRUNCATE" not in statement else "")
            )
        conn.rollback()


def test_the_app_role_cannot_drop_a_month_inside_the_year_or_one_not_archived(archived_agency):
    _, month, _ = archived_agency
    with pytest.raises(DatabaseError, match="inside the year"), transaction.atomic():
        fetch("SELECT audit_drop_archived_partition(%s)", [retention.current_month()])
    with pytest.raises(DatabaseError, match="no verified archive"), transaction.atomic():
        fetch("SELECT audit_drop_archived_partition(%s)", [month])
    assert month in retention.online_months()


# --- Archives ------------------------------------------------------------------------------


def test_an_old_month_is_archived_encrypted_verified_and_dropped_and_the_chain_still_verifies(
    archived_agency,
):
    agency, month, old = archived_agency
    assert retention.months_due() == [month]
    done = retention.maintain([agency.pk])
    assert [d.month for d in done] == [month]
    assert month not in retention.online_months()
    fetch_part = fetch("SELECT to_regclass(%s)", [partition_of(month)])
    assert fetch_part == [(None,)]
    with agency_context(agency):
        row = AuditArchive.objects.get(agency=agency, month=month)
        assert (row.events, row.first_id, row.last_id) == (5, old[0].pk, old[-1].pk)
        assert row.first_prev_hash == GENESIS_HASH and row.last_hash == old[-1].hash
        assert row.verified_at is not None
        assert row.manifest["key"]["wrapped_by"] == "agency"
        assert archive.signature_problem(row.manifest) is None
        assert row.manifest["signature"]["ed25519"]
        # What is left online starts mid-chain, and verifies from the archive's last hash.
        assert AuditEvent.objects.filter(agency=agency).count() == 2  # now + "archived"
        report = verify_chain(agency.pk)
        assert report.ok, report
        assert report.events == 7
        archived_event = AuditEvent.objects.get(agency=agency, action="audit.month_archived")
        assert archived_event.details == {"month": f"{month:%Y-%m}", "events": 5}
    store = archive_store("default")
    ciphertext = b"".join(store.read(row.blob_name))
    assert MARKER.encode() not in ciphertext
    assert EVENT.encode() not in ciphertext


def test_verification_reports_an_archive_that_does_not_link_up(archived_agency):
    agency, month, _ = archived_agency
    retention.archive_month(month, [agency.pk])
    with agency_context(agency):
        AuditArchive.objects.filter(agency=agency).update(last_hash="f" * 64)
        report = verify_chain(agency.pk)
    assert not report.ok


def test_a_changed_archive_or_manifest_in_storage_is_refused(archived_agency):
    agency, month, _ = archived_agency
    retention.archive_month(month, [agency.pk])
    store = archive_store("default")
    with agency_context(agency):
        row = AuditArchive.objects.get(agency=agency)
    blob = bytearray(b"".join(store.read(row.blob_name)))
    blob[-5] ^= 1
    store.write(row.blob_name, [bytes(blob)])
    with agency_context(agency), pytest.raises(archive.ArchiveInvalid, match="decrypt"):
        archive.read_verified(row, store)
    name = archive.manifest_name(agency.pk, month)
    store.write(name, [b"".join(store.read(name)).replace(b'"events":5', b'"events":4')])
    with agency_context(agency), pytest.raises(archive.ArchiveInvalid, match="manifest"):
        archive.read_verified(row, store)


def test_an_archive_restores_read_only_for_the_agency_alone(archived_agency, other_tenant):
    agency, month, old = archived_agency
    retention.archive_month(month, [agency.pk])
    call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}")
    table = f"audit_restore.agency_{agency.pk}_{month:%Y_%m}"
    with agency_context(agency):
        rows = fetch(f"SELECT id, hash, details FROM {table} ORDER BY id")
        assert [(r[0], r[1]) for r in rows] == [(e.pk, e.hash) for e in old]
        assert json.loads(rows[0][2])["note"] == MARKER
        restored = AuditEvent.objects.get(agency=agency, action="audit.archive_restored")
        assert restored.details["events"] == 5
    with agency_context(other_tenant.agency):
        assert fetch(f"SELECT count(*) FROM {table}") == [(0,)]
    for statement in (
        f"UPDATE {table} SET action = 'forged'",
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
        f"INSERT INTO {table} SELECT * FROM {table}",
    ):
        with (
            agency_context(agency),
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
        ):
            fetch(statement)
    with pytest.raises(CommandError, match="already restored"):
        call_command("audit_restore_archive", agency=str(agency.pk), month=f"{month:%Y-%m}")


def test_shredding_the_agency_keys_makes_its_archived_log_unreadable(archived_agency):
    agency, month, _ = archived_agency
    retention.archive_month(month, [agency.pk])
    with agency_context(agency):
        keys.destroy_agency_keys(agency.pk)
    with pytest.raises(ArchiveKeyUnavailable):
        restore_archive(agency.pk, month)
    with pytest.raises(CommandError, match="key is gone"):
        call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}")


def test_the_restore_command_refuses_a_bad_month_or_agency():
    with pytest.raises(CommandError, match="must look like"):
        call_command("audit_restore_archive", agency="platform", month="2025-13")
    with pytest.raises(CommandError, match="No agency"):
        call_command("audit_restore_archive", agency="no-such-agency", month="2025-11")
    with pytest.raises(CommandError, match="no verified archive"):
        call_command("audit_restore_archive", agency="platform", month="2001-01")


def test_seals_made_before_a_month_was_archived_still_match_after(archived_agency):
    from audit.seals import services

    agency, month, _ = archived_agency
    assert not services.seal_chains().failed  # a seal at position 6: 5 old events and 1 now
    retention.archive_month(month, [agency.pk])
    with agency_context(agency):
        audit.record(EVENT, agency=agency)
    assert not services.seal_chains().failed
    check = next(c for c in services.verify_chains().chains if c.agency_id == agency.pk)
    assert check.ok, check.problems
    assert check.events == 8  # 5 archived, 1 before archiving, its event, 1 after


def test_a_manifest_forged_in_storage_and_database_together_fails_its_signature(archived_agency):
    agency, month, _ = archived_agency
    retention.archive_month(month, [agency.pk])
    store = archive_store("default")
    with agency_context(agency):
        row = AuditArchive.objects.get(agency=agency)
        forged = {**row.manifest, "events": 4}
        name = archive.manifest_name(agency.pk, month)
        store.write(name, [archive.canonical(forged)])
        row.manifest, row.manifest_sha256 = forged, archive.manifest_digest(forged)
        with pytest.raises(archive.ArchiveInvalid, match="signature"):
            archive.read_verified(row, store)
