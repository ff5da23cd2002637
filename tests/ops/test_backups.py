"""Backups (issue 13): taken, listed, verified by a real restore, rotated; and refused with a
clear message when the key is wrong, the dump is cut or changed, or the target is not empty."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command

import audit
from accounts.models import Agency
from accounts.tenancy import agency_context
from audit.seals import services as seal_services
from ops import backups as ops_backups
from ops import pg
from ops.restore import verify_backup
from tests.audit.helpers import TEST_EVENT, register_test_event, unique_slug
from tests.ops.helpers import backup_environment, run_in, superuser_database


def _agency_with_events(database: str, events: int) -> int:
    register_test_event()
    slug = unique_slug("backup")

    def create() -> int:
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        for n in range(events):
            with agency_context(agency):
                audit.record(TEST_EVENT, agency=agency, details={"n": n})
        return agency.pk

    return run_in(database, create)


def _seal(database: str) -> None:
    run_in(database, seal_services.seal_chains)


def _read_manifest(backups, manifest) -> dict:
    return json.loads((backups.root / manifest.name).read_bytes())


def test_backup_then_verify_restores_counts_and_chains_against_the_seals(backups, capsys):
    agency_id = _agency_with_events(backups.database, 4)
    _seal(backups.database)

    call_command("backup_now", kind="weekly")
    listed = ops_backups.list_backups()
    assert len(listed) == 1
    manifest = listed[0].manifest
    assert manifest.kind == "weekly"
    assert backups.files() == [f"weekly/{manifest.id}.dump", f"weekly/{manifest.id}.json"]
    raw = _read_manifest(backups, manifest)
    assert raw["tables"]["public.accounts_agency"] == 1
    heads = {c["agency_id"]: c for c in raw["chains"]}
    assert heads[agency_id]["events"] == 4
    assert raw["seals"][f"agency-{agency_id}"]["events"] == 4
    assert raw["mac"] and raw["sha256"] and raw["size"] == manifest.size
    # The dump is ciphertext: no table name, no agency slug in it.
    dump = (backups.root / manifest.dump).read_bytes()
    assert b"accounts_agency" not in dump and b"PGDMP" not in dump

    # Events after the backup (and their seal) do not make the older backup fail.
    run_in(backups.database, lambda: _more_events(agency_id))
    _seal(backups.database)

    scratch_before = _scratch_databases()
    call_command("backup_verify")
    out = capsys.readouterr().out
    assert f"Backup {manifest.id} (weekly" in out
    assert f"agency {agency_id} (backup-" in out and "4 events, matches its 1 seal(s)" in out
    assert "OK: row counts match the manifest" in out
    # Its scratch database is gone.
    assert _scratch_databases() <= scratch_before


def _scratch_databases() -> set[str]:
    with superuser_database("postgres").connect() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'portal_backup_check_%%'"
        ).fetchall()
    return {row[0] for row in rows}


def _more_events(agency_id: int) -> None:
    agency = Agency.objects.get(pk=agency_id)
    with agency_context(agency):
        audit.record(TEST_EVENT, agency=agency, details={"after": True})


def test_a_backup_of_a_rewritten_chain_fails_verification_naming_the_chain(backups, capsys):
    agency_id = _agency_with_events(backups.database, 3)
    _seal(backups.database)
    # Someone with the owner's powers rewrites history and recomputes the later hashes: the
    # chain checks out alone; only the seal (outside the database) tells.
    with superuser_database(backups.database).connect(autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # the triggers stand down
        head = "(SELECT max(id) FROM audit_auditevent WHERE agency_id = %s)"
        (original,) = conn.execute(
            f"SELECT hash FROM audit_auditevent WHERE id = {head}", [agency_id]
        ).fetchone()
        conn.execute(
            f"UPDATE audit_auditevent SET hash = repeat('a', 64) WHERE id = {head}", [agency_id]
        )
        try:
            ops_backups.take_backup("daily")
        finally:  # the live chain mended: later backups of this database are sound
            conn.execute(
                f"UPDATE audit_auditevent SET hash = %s WHERE id = {head}", [original, agency_id]
            )
    with pytest.raises(CommandError, match="failed verification"):
        call_command("backup_verify")
    out = capsys.readouterr().out
    assert f"PROBLEM: audit chain of agency {agency_id} (backup-" in out
    assert "BROKEN at event" in out and "contents do not match their hash" in out


def test_wrong_key_is_named_before_anything_is_restored(backups, settings):
    manifest = ops_backups.take_backup("daily")
    other = os.urandom(32)
    settings.BACKUPS = settings.BACKUPS._replace(key=other)
    expected = f"wrong backup key: this backup was encrypted with key {manifest.key_id}"
    with pytest.raises(CommandError, match=expected):
        call_command("backup_verify", manifest.id)
    # The old key listed as an old key opens it again (the manifest authenticates with it).
    settings.BACKUPS = settings.BACKUPS._replace(old_keys=[backups.key])
    assert ops_backups.find_backup(manifest.id) == (manifest, backups.key)


def test_truncated_and_tampered_dumps_and_manifests_are_named(backups):
    manifest = ops_backups.take_backup("daily")
    dump = backups.root / manifest.dump
    original = dump.read_bytes()

    dump.write_bytes(original[: len(original) // 2])
    with pytest.raises(CommandError, match=f"backup {manifest.id} is truncated: its dump holds"):
        call_command("backup_verify", manifest.id)

    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    dump.write_bytes(bytes(changed))
    with pytest.raises(CommandError, match=r"tampered with or truncated .*does not authenticate"):
        call_command("backup_verify", manifest.id)

    dump.write_bytes(original)
    path = backups.root / manifest.name
    raw = json.loads(path.read_bytes())
    raw["tables"]["public.accounts_agency"] += 1
    path.write_text(json.dumps(raw))
    with pytest.raises(CommandError, match=r"does not authenticate with its backup key.*tampered"):
        call_command("backup_verify", manifest.id)

    with pytest.raises(CommandError, match="no complete backup has the id"):
        call_command("backup_verify", "20200101-000000-000000")
    with pytest.raises(CommandError, match="is not a backup id"):
        call_command("backup_restore", "../../etc", into="postgres://nobody@localhost/x")


@pytest.fixture
def target(backups):
    """An empty database to restore into (dropped afterwards)."""
    server = backups.server()
    with pg.scratch_database(server) as database:
        yield database


def test_restore_into_an_empty_database_then_refuse_a_non_empty_one(backups, target):
    agency_id = _agency_with_events(backups.database, 2)
    manifest = ops_backups.take_backup("daily")
    url = f"postgres://{target.user}@{target.host.replace('/', '%2F')}/{target.name}"
    call_command("backup_restore", manifest.id, into=url)
    with target.connect() as conn:
        assert pg.row_counts(conn) == manifest.tables
        query = "SELECT slug FROM accounts_agency WHERE id = %s"
        assert conn.execute(query, [agency_id]).fetchone()
        conn.execute("CREATE TABLE keep_me (note text)")
        conn.execute("INSERT INTO keep_me VALUES ('mine')")
        conn.execute("UPDATE accounts_agency SET name = 'changed since'")
        conn.commit()

    with pytest.raises(CommandError, match=r"is not empty .* nothing was restored.*--force"):
        call_command("backup_restore", manifest.id, into=url)
    with target.connect() as conn:
        assert _names(conn) == [("changed since",)]

    # A tampered dump with --force: refused mid-stream, the target exactly as it was.
    dump = backups.root / manifest.dump
    original = dump.read_bytes()
    changed = bytearray(original)
    changed[-100] ^= 0x01
    dump.write_bytes(bytes(changed))
    with pytest.raises(CommandError, match=r"tampered.*nothing was restored"):
        call_command("backup_restore", manifest.id, into=url, force=True)
    with target.connect() as conn:
        assert _names(conn) == [("changed since",)]

    dump.write_bytes(original)
    # --force replaces the database's contents with the backup's, in one transaction.
    call_command("backup_restore", manifest.id, into=url, force=True)
    with target.connect() as conn:
        assert pg.row_counts(conn) == manifest.tables
        assert conn.execute("SELECT to_regclass('public.keep_me')").fetchone() == (None,)
        assert ("changed since",) not in _names(conn)


def _names(conn) -> list:
    return conn.execute("SELECT DISTINCT name FROM accounts_agency").fetchall()


def test_rotation_keeps_the_newest_of_each_kind(backups, settings, capsys):
    settings.BACKUPS = settings.BACKUPS._replace(keep={"daily": 2, "weekly": 1, "monthly": 1})
    daily = [ops_backups.take_backup("daily") for _ in range(3)]
    weekly = [ops_backups.take_backup("weekly") for _ in range(2)]
    kept = {b.manifest.id for b in ops_backups.list_backups()}
    assert kept == {daily[1].id, daily[2].id, weekly[1].id}
    assert not any(daily[0].id in name for name in backups.files())
    capsys.readouterr()
    call_command("backup_list")
    lines = [line for line in capsys.readouterr().out.splitlines() if " INFO " not in line]
    expected = [(daily[1].id, "daily"), (daily[2].id, "daily"), (weekly[1].id, "weekly")]
    assert [tuple(line.split()[:2]) for line in lines] == sorted(expected, reverse=True)


def test_the_beat_task_backs_up_in_a_process_of_its_own_and_alerts_on_failure(
    backups, settings, mailoutbox, monkeypatch
):
    from config.celery import app
    from ops.tasks import BackupFailed, backup_database

    name = "ops.tasks.backup_database"
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert name in schedule and name in app.tasks
    assert len(schedule[name]["schedule"].hour) == 1  # once a day
    assert app.amqp.router.route({}, name)["queue"].name == "maintenance"
    assert ops_backups.kind_for(datetime(2026, 3, 1)) == "monthly"
    assert ops_backups.kind_for(datetime(2026, 3, 2)) == "weekly"  # a Monday
    assert ops_backups.kind_for(datetime(2026, 3, 3)) == "daily"

    # The process reads its settings from the environment, as the worker's would.
    for variable, value in backup_environment(backups).items():
        monkeypatch.setenv(variable, value)
    result = backup_database.apply(kwargs={"agency_id": None, "kind": "monthly"}).get()
    assert [b.manifest.id for b in ops_backups.list_backups()] == [result["id"]]
    assert result["kind"] == "monthly"

    settings.OPERATOR_EMAILS = ["ops@example.org"]
    monkeypatch.setenv("BACKUP_KEY", "too-short")
    with pytest.raises(BackupFailed, match="BACKUP_KEY must be 32 bytes"):
        backup_database.apply(kwargs={"agency_id": None, "kind": "daily"}).get()
    assert "The database backup failed" in mailoutbox[-1].subject
    assert "BACKUP_KEY must be 32 bytes" in mailoutbox[-1].body


def test_unwritable_folder_is_a_clear_error_and_leaves_nothing(backups, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    settings.BACKUPS = settings.BACKUPS._replace(local_root=blocker / "backups")
    with pytest.raises(CommandError, match=r"Backup failed: the backup store .* refused the dump"):
        call_command("backup_now")
    assert blocker.read_text().startswith("a file")


def test_the_tables_owner_backs_up_through_its_backup_policies(backups, settings):
    """Heroku gives no role BYPASSRLS: the owner's backup reads every row through a policy
    that only its own sessions setting app.backup can use; the app role gains nothing."""
    agency_id = _agency_with_events(backups.database, 2)
    with superuser_database(backups.database).connect() as conn:
        every_row = pg.row_counts(conn)
    owner = dict(settings.PORTAL_OWNER_DATABASE, NAME=backups.database)
    settings.BACKUPS = settings.BACKUPS._replace(database=owner)

    manifest = ops_backups.take_backup("daily")
    assert manifest.tables == every_row
    assert {c["agency_id"]: c["events"] for c in manifest.chains}[agency_id] == 2

    app = pg.Database.from_settings(settings.PORTAL_APP_DATABASE).named(backups.database)
    with app.connect(reading_all=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM accounts_membership").fetchone() == (0,)

    report = verify_backup(manifest.id)  # restored, counted and checked as the owner too
    assert report.ok, report.problems
    assert any(line.startswith(f"agency {agency_id} (backup-") for line in report.chains)


def test_tools_of_the_servers_version_or_newer_older_ones_refused(settings, tmp_path):
    from ops.pg import ToolError, tool

    folder = tmp_path / "bin"
    folder.mkdir()
    for name, version in (("pg_dump", "14.9"), ("pg_restore", "18.1")):
        script = folder / name
        script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
        script.chmod(0o755)
    settings.BACKUPS = settings.BACKUPS._replace(pg_bin=str(folder))
    with pytest.raises(ToolError, match=r"no pg_dump of PostgreSQL 16 or newer .*\(14\)"):
        tool("pg_dump", 16)
    assert tool("pg_restore", 16) == str(folder / "pg_restore")
