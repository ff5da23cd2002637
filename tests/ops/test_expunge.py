"""Expunging an agency (issue 13): nothing of it is readable afterwards, in the live database,
in storage, or in a backup taken before the expunge (restored and tried); its neighbour is
untouched; an unknown slug, a wrong confirmation or an app-role run change nothing; a crash
after the commit is finished by a rerun."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

import audit
from accounts.models import Membership, Role
from accounts.outbox.models import OutboxMessage
from accounts.tenancy import agency_context
from audit.audit_events import AGENCY_EXPUNGED
from audit.models import AuditEvent
from audit.seals import services as seal_services
from documents import keys, versions
from documents.models import DocumentVersion
from ops import backups as ops_backups
from ops import expunge, pg
from ops.restore import restore_into
from requests_portal.models import MessageKind
from requests_portal.services import messaging
from tests.audit.helpers import TEST_EVENT, register_test_event, unique_slug
from tests.documents.helpers import stored_document
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.ops.helpers import superuser_database
from tests.requests_portal.helpers import file_request
from vault import storage

SECRET = b"%PDF-1.4 the secret minutes of the expunged agency"


def _run_as(database: str, credentials: dict[str, Any], fn: Callable[[], Any]) -> Any:
    """``fn`` on a thread whose default connection is ``database`` under ``credentials``
    (USER, PASSWORD, HOST, PORT); what it writes commits."""
    default = connections["default"]
    values = dict(default.settings_dict, NAME=database)
    values.update({k: credentials.get(k) for k in ("USER", "PASSWORD", "HOST", "PORT")})
    outcome: dict[str, Any] = {}

    def target() -> None:
        wrapper = type(default)(values, "default")
        connections["default"] = wrapper
        try:
            outcome["value"] = fn()
        except BaseException as error:  # noqa: BLE001 (re-raised below)
            outcome["error"] = error
        finally:
            wrapper.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(180)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def as_app(database: str, fn: Callable[[], Any]) -> Any:
    return _run_as(database, settings.PORTAL_APP_DATABASE, fn)


def as_owner(database: str, fn: Callable[[], Any]) -> Any:
    return _run_as(database, settings.PORTAL_OWNER_DATABASE, fn)


class _Tenant:
    def __init__(self, slug: str, location: str = "default") -> None:
        self.agency = AgencyFactory(slug=slug, name=slug, storage_location=location)
        self.requester = UserFactory(email=f"requester@{slug}.test")
        with agency_context(self.agency):
            self.staff = UserFactory(email=f"staff@{slug}.test")
            MembershipFactory(agency=self.agency, user=self.staff, role=Role.STAFF)


def _agency_with_data(database: str, prefix: str, location: str = "default") -> dict[str, Any]:
    """An agency with a request, a message, a document stored encrypted and audit events."""
    register_test_event()
    slug = unique_slug(prefix)

    def create() -> dict[str, Any]:
        tenant = _Tenant(slug, location)
        records_request = file_request(tenant, requester=tenant.requester)
        with agency_context(tenant.agency):
            messaging.request_message(
                records_request=records_request,
                actor=tenant.staff,
                kind=MessageKind.INTERNAL,
                body="internal note about the secret minutes",
            )
            audit.record(TEST_EVENT, agency=tenant.agency, details={"n": 1})
        document = stored_document(records_request, SECRET, actor=tenant.staff)
        OutboxMessage.objects.create(task_name="t.notify", kwargs={"agency_id": tenant.agency.pk})
        with agency_context(tenant.agency):
            version = DocumentVersion.objects.get(document=document)
        return {"id": tenant.agency.pk, "slug": slug, "storage_name": version.storage_name}

    return as_app(database, create)


def _rows_of(database: str, agency_id: int) -> dict[str, int]:
    """Rows holding the agency's id, in every table with an agency_id column (every tenant
    table, the audit log's partitions), plus its chain head and its agency row: counted as the
    superuser, whom no row-level security hides anything from."""
    counts = {}
    with superuser_database(database).connect() as conn:
        tables = conn.execute(
            "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND a.attname = 'agency_id' AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            count = conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE agency_id = %s', [agency_id]
            ).fetchone()[0]
            if count:
                counts[table] = count
        for table, column in (("audit_chainhead", "chain"), ("accounts_agency", "id")):
            count = conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = %s",
                [agency_id],
            ).fetchone()[0]
            if count:
                counts[table] = count
    return counts


def _blobs_of(agency_id: int) -> list[str]:
    found = []
    for root in (settings.DOCUMENTS_LOCAL_ROOT, settings.KEYSTORE_LOCAL_ROOT):
        found += [
            str(p) for p in root.rglob("*") if f"agency-{agency_id}/" in str(p) and p.is_file()
        ]
    return found


def _read_document(agency_id: int) -> bytes:
    keys.forget_cached_keys()
    with agency_context(agency_id):
        version = DocumentVersion.objects.select_related("document").get(agency_id=agency_id)
        return b"".join(versions.version_read(version))


def _data_key(agency_id: int) -> bytes:
    keys.forget_cached_keys()
    with agency_context(agency_id):
        version = DocumentVersion.objects.select_related("document").get(agency_id=agency_id)
        return keys.version_data_key(version)


def test_expunge_leaves_nothing_readable_live_or_in_an_earlier_backup(backups, capsys):
    gone = _agency_with_data(backups.database, "expunged")
    neighbour = _agency_with_data(backups.database, "neighbour")
    before = _rows_of(backups.database, gone["id"])
    for table in ("requests_portal_recordsrequest", "requests_portal_message"):
        assert before.get(table, 0) >= 1, table
    assert any(t.startswith("audit_auditevent") for t in before)
    assert before["documents_documentversion"] == 1 and before["audit_chainhead"] == 1
    neighbour_rows = _rows_of(backups.database, neighbour["id"])
    assert _blobs_of(gone["id"]) and as_app(backups.database, lambda: _read_document(gone["id"]))

    as_app(backups.database, seal_services.seal_chains)
    manifest = ops_backups.take_backup("daily")

    with pytest.raises(CommandError, match="is not the slug"):
        as_owner(
            backups.database,
            lambda: call_command("agency_expunge", gone["slug"], confirm="neighbour"),
        )
    with pytest.raises(CommandError, match="owns the tables"):
        as_app(
            backups.database,
            lambda: call_command("agency_expunge", gone["slug"], confirm=gone["slug"]),
        )
    assert _rows_of(backups.database, gone["id"]) == before

    as_owner(
        backups.database, lambda: call_command("agency_expunge", gone["slug"], confirm=gone["slug"])
    )
    out = capsys.readouterr().out
    assert f"Expunged agency {gone['slug']!r}" in out and "keys store: 1 blobs" in out

    # (a) Nothing of the agency in the live database or in storage; the neighbour untouched.
    assert _rows_of(backups.database, gone["id"]) == {}
    assert _blobs_of(gone["id"]) == []
    assert _rows_of(backups.database, neighbour["id"]) == neighbour_rows
    assert as_app(backups.database, lambda: _read_document(neighbour["id"])) == SECRET

    def platform_events() -> list[dict]:
        with agency_context(None, platform=True):
            return list(
                AuditEvent.objects.filter(
                    agency__isnull=True, action=AGENCY_EXPUNGED.code
                ).values_list("details", flat=True)
            )

    (details,) = as_app(backups.database, platform_events)
    assert details["agency_id"] == gone["id"] and details["slug"] == gone["slug"]
    assert details["rows"]["documents_documentversion"] == 1
    assert details["rows"]["audit_auditevent"] == sum(
        n for t, n in before.items() if t.startswith("audit_auditevent_")
    )
    assert details["blobs"] == {"keys": 1, "documents": 1}
    assert details["rows"]["accounts_outbox_message"] == 1

    def queued() -> list[int]:
        return [m.kwargs["agency_id"] for m in OutboxMessage.objects.filter(task_name="t.notify")]

    assert gone["id"] not in as_app(backups.database, queued)
    assert neighbour["id"] in as_app(backups.database, queued)

    # Its seals stay (write-once, hashes only): the nightly check names the chain expunged,
    # on the word of the platform chain's event, instead of failing on its missing events.
    checks = as_app(backups.database, seal_services.verify_chains).chains
    (check,) = [c for c in checks if c.agency_id == gone["id"]]
    assert check.ok and check.seals == 1 and check.label.endswith("expunged)")

    # Expunged already (and finished): a clear error, nothing changed.
    with pytest.raises(CommandError, match="unknown, or already expunged"):
        as_owner(
            backups.database,
            lambda: call_command("agency_expunge", gone["slug"], confirm=gone["slug"]),
        )

    # (b) The backup taken before: restored, the agency's rows are back, its key is not.
    server = backups.server()
    with pg.scratch_database(server) as scratch:
        restore_into(scratch, manifest, backups.key)
        assert _rows_of(scratch.name, gone["id"])["documents_documentversion"] == 1
        superuser = {
            "USER": server.user,
            "PASSWORD": server.password,
            "HOST": server.host,
            "PORT": server.port,
        }
        # The neighbour's documents open from the restored backup: the check below means it.
        assert _run_as(scratch.name, superuser, lambda: _data_key(neighbour["id"]))
        with pytest.raises(keys.KeyUnavailable, match="escrow is gone"):
            _run_as(scratch.name, superuser, lambda: _data_key(gone["id"]))
    assert not list(settings.KEYSTORE_LOCAL_ROOT.rglob(f"agency-{gone['id']}/*"))


def test_a_crash_after_the_commit_is_finished_by_a_rerun(backups, monkeypatch):
    gone = _agency_with_data(backups.database, "halfway")
    real = expunge._delete_blobs
    monkeypatch.setattr(expunge, "_delete_blobs", lambda slug, blobs, **kw: {})
    as_owner(backups.database, lambda: expunge.expunge_agency(gone["slug"]))
    assert _rows_of(backups.database, gone["id"]) == {}
    assert len(_blobs_of(gone["id"])) == 2  # the escrow key and the document's ciphertext

    monkeypatch.setattr(expunge, "_delete_blobs", real)
    result = as_owner(backups.database, lambda: expunge.expunge_agency(gone["slug"]))
    assert result.finished_earlier_run and result.blobs == {"keys": 1, "documents": 1}
    assert _blobs_of(gone["id"]) == []
    with pytest.raises(expunge.ExpungeError, match="already expunged"):
        as_owner(backups.database, lambda: expunge.expunge_agency(gone["slug"]))


def test_a_failure_half_way_changes_nothing(backups, monkeypatch):
    gone = _agency_with_data(backups.database, "failing")
    before = _rows_of(backups.database, gone["id"])

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(expunge, "_write_ledger", fail)  # the transaction's last step
    with pytest.raises(RuntimeError, match="disk is full"):
        as_owner(backups.database, lambda: expunge.expunge_agency(gone["slug"]))
    assert _rows_of(backups.database, gone["id"]) == before
    assert len(_blobs_of(gone["id"])) == 2
    assert as_app(backups.database, lambda: _read_document(gone["id"])) == SECRET


def test_an_unknown_agency_is_a_clear_error(backups):
    with pytest.raises(CommandError, match="no agency 'no-such-agency'"):
        as_owner(
            backups.database,
            lambda: call_command("agency_expunge", "no-such-agency", confirm="no-such-agency"),
        )


def test_membership_model_is_among_the_tables_expunged():
    models = expunge.agency_models()
    assert Membership in models
    assert models.index(DocumentVersion) < models.index(
        next(m for m in models if m._meta.db_table == "documents_document")
    )


def test_the_prompt_wants_the_slug_typed_again(monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "beta")
    with pytest.raises(CommandError, match=r"'beta' is not the slug 'alpha'\. Nothing was changed"):
        call_command("agency_expunge", "alpha")


def test_an_agency_in_another_storage_location_is_expunged_there(backups, monkeypatch):
    """Its blobs are deleted in its own location (the ledger, the platform's, lies in the
    default one and names it), also when a rerun finishes an interrupted expunge."""
    monkeypatch.setattr(settings, "STORAGE_LOCATIONS", {"eu": {"label": "Frankfurt"}})
    storage.reset_cache()
    gone = _agency_with_data(backups.database, "located", location="eu")
    folder = Path(settings.DOCUMENTS_LOCAL_ROOT).parent / "locations" / "eu"

    def in_eu() -> list[str]:
        return [
            str(p) for p in folder.rglob("*") if p.is_file() and f"agency-{gone['id']}/" in str(p)
        ]

    assert len(in_eu()) == 2 and _blobs_of(gone["id"]) == []  # escrow key and ciphertext
    real = expunge._delete_blobs
    monkeypatch.setattr(expunge, "_delete_blobs", lambda slug, blobs, **kw: {})
    as_owner(backups.database, lambda: expunge.expunge_agency(gone["slug"]))
    assert len(in_eu()) == 2
    monkeypatch.setattr(expunge, "_delete_blobs", real)
    result = as_owner(backups.database, lambda: expunge.expunge_agency(gone["slug"]))
    assert result.finished_earlier_run and result.blobs == {"keys": 1, "documents": 1}
    assert in_eu() == []
