"""``/healthz/deep`` (issue 13, monitoring): who may read it, and each component's failure
seen for real (a dead Redis port, an unwritable documents folder, a late backup manifest,
an unapplied migration, an audit event waiting too long for its seal)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client

import audit
from accounts.tenancy import agency_context
from audit.seals import services as seal_services
from ops import monitoring
from ops.audit_events import INCIDENT_POSTED
from ops.backups import new_id
from ops.manifest import Manifest, key_id
from tests.conftest import mark_fully_signed_in
from tests.factories import UserFactory
from vault import storage

pytestmark = pytest.mark.django_db

PLATFORM = django_settings.PORTAL_BASE_DOMAIN


@pytest.fixture
def backup_folder(settings, tmp_path):
    key = os.urandom(32)
    settings.BACKUPS = settings.BACKUPS._replace(
        key=key, old_keys=[], s3_bucket="", local_root=tmp_path / "backups"
    )
    storage.reset_cache()
    yield key
    storage.reset_cache()


def write_manifest(key: bytes, finished: datetime) -> Manifest:
    backup_id = new_id(finished - timedelta(minutes=5))
    manifest = Manifest(
        id=backup_id,
        kind="daily",
        started=(finished - timedelta(minutes=5)).isoformat(),
        finished=finished.isoformat(),
        database="portal",
        server_version=160000,
        dump=f"daily/{backup_id}.dump",
        size=1,
        sha256="0" * 64,
        plaintext_size=1,
        key_id=key_id(key),
    )
    storage.backup_store().write(manifest.name, [manifest.to_bytes(key)])
    return manifest


def operator_client() -> Client:
    client = Client(HTTP_HOST=PLATFORM)
    client.force_login(UserFactory(is_staff=True))
    mark_fully_signed_in(client)
    return client


def statuses(results: list[monitoring.Check]) -> dict[str, str]:
    return {result.name: result.status for result in results}


# --- Who may read it ---------------------------------------------------------------------------


def test_anonymous_callers_and_members_learn_nothing(tenant, client_for):
    assert Client(HTTP_HOST=PLATFORM).get("/healthz/deep").status_code == 404
    signed_in = Client(HTTP_HOST=PLATFORM)
    signed_in.force_login(tenant.admin)
    mark_fully_signed_in(signed_in)
    assert signed_in.get("/healthz/deep").status_code == 404
    wrong = Client(HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION="Bearer guessed")
    assert wrong.get("/healthz/deep").status_code == 404
    # An operator on an agency's host: not there either.
    operator = client_for(UserFactory(is_staff=True), tenant.host)
    assert operator.get("/healthz/deep").status_code == 404


def test_an_operator_without_a_recent_second_factor_is_refused(db):
    client = Client(HTTP_HOST=PLATFORM)
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/healthz/deep").status_code == 404


def test_an_operator_reads_every_component(backup_folder):
    write_manifest(backup_folder, datetime.now(UTC) - timedelta(hours=1))
    response = operator_client().get("/healthz/deep")
    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "storage", "migrations", "backup", "seal"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["storage"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["backup"]["status"] == "ok"
    assert body["checks"]["backup"]["at"].endswith("+00:00")
    assert "no-store" in response["Cache-Control"]
    assert response.status_code == (200 if body["status"] == "ok" else 503)


def test_the_bearer_token_opens_it_for_a_monitor(settings, backup_folder):
    settings.MONITORING = settings.MONITORING._replace(deep_token="s3cr3t-monitor-token")
    write_manifest(backup_folder, datetime.now(UTC))
    client = Client(HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION="Bearer s3cr3t-monitor-token")
    response = client.get("/healthz/deep")
    assert response.status_code in (200, 503)
    assert "checks" in response.json()


def test_a_failed_component_answers_503(settings, backup_folder):
    settings.MONITORING = settings.MONITORING._replace(deep_token="t0ken")
    # No backup at all: the backup check fails, and with it the whole answer.
    response = Client(HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION="Bearer t0ken").get("/healthz/deep")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["checks"]["backup"] == {
        "status": "fail",
        "detail": "no complete backup",
        "at": None,
    }


def test_healthz_stays_cheap_and_public(db):
    response = Client(HTTP_HOST=PLATFORM).get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


# --- Each component's failure -------------------------------------------------------------


def test_a_dead_redis_port_fails_the_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # (Django's test signals rebuild the cache handlers when CACHES changes.)
    result = next(r for r in monitoring.run_checks() if r.name == "cache")
    assert result.status == "fail"
    assert "ConnectionError" in result.detail


def test_without_redis_the_cache_is_not_configured(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert monitoring.check_cache().status == "not configured"


def test_an_unwritable_documents_store_fails_storage(settings, tmp_path):
    # A file where the documents folder should be: no write can succeed (even as root).
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    settings.DOCUMENTS_LOCAL_ROOT = blocker
    storage.reset_cache()
    result = next(r for r in monitoring.run_checks() if r.name == "storage")
    assert result.status == "fail"
    assert blocker.read_bytes() == b""


def test_storage_leaves_no_health_object_behind(settings):
    assert monitoring.check_storage().status == "ok"
    assert [p for p in settings.DOCUMENTS_LOCAL_ROOT.rglob("*") if p.is_file()] == []


def test_a_late_backup_fails(backup_folder):
    write_manifest(backup_folder, datetime.now(UTC) - timedelta(hours=27))
    result = monitoring.check_backup()
    assert result.status == "fail" and "late" in result.detail
    write_manifest(backup_folder, datetime.now(UTC) - timedelta(hours=25))
    result = monitoring.check_backup()
    assert result.status == "ok"
    assert datetime.now(UTC) - result.at < timedelta(hours=26)


def test_a_manifest_under_another_key_is_no_backup(backup_folder):
    write_manifest(os.urandom(32), datetime.now(UTC))
    assert monitoring.check_backup().status == "fail"


def test_an_unapplied_migration_fails(monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    real = MigrationExecutor.migration_plan

    def plan_with_one_more(self, targets, clean_start=False):
        node = self.loader.graph.leaf_nodes()[0]
        return [(self.loader.graph.nodes[node], False), *real(self, targets, clean_start)]

    monkeypatch.setattr(MigrationExecutor, "migration_plan", plan_with_one_more)
    result = monitoring.check_migrations()
    assert result.status == "fail" and "1 not applied" in result.detail


def test_an_event_waiting_too_long_for_its_seal_fails():
    with agency_context(None, platform=True):
        audit.record(INCIDENT_POSTED.code, details={"title": "test"})
    assert monitoring.check_seal().status == "ok"  # just recorded: not late yet
    assert monitoring.check_seal(now=datetime.now(UTC) + timedelta(hours=3)).status == "fail"
    run = seal_services.seal_chains()
    assert not run.failed, run
    # Sealed. The sealing run's own event waits for the next run (hourly): not late at once.
    result = monitoring.check_seal(now=datetime.now(UTC) + timedelta(minutes=90))
    assert result.status == "ok"
    assert result.at is not None and datetime.now(UTC) - result.at < timedelta(minutes=5)
    # Nothing sealed for three hours: late.
    assert monitoring.check_seal(now=datetime.now(UTC) + timedelta(hours=3)).status == "fail"
