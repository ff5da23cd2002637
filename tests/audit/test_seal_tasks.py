"""The scheduled side of the seals: hourly sealing that retries and alerts when the seal store
is down (never dropping a seal), and a nightly verification that tells the operators (email
and Sentry) when a chain no longer matches, recording its own platform audit event."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core import mail

from accounts.tenancy import agency_context
from audit import tasks
from audit.models import AuditEvent
from audit.seals import services
from audit.seals.store import LocalSealStore
from config.celery import app
from tests.audit.helpers import committed_agency, rewrite_and_rehash, seal_committed
from vault.storage import StorageError

pytestmark = pytest.mark.django_db


class FlakyStore(LocalSealStore):
    """A seal folder that is down (every call fails) for its first ``down_runs`` sealing
    runs, or for ever."""

    def __init__(self, root, down_runs: int | None) -> None:
        super().__init__(root)
        self.down_runs = down_runs
        self.runs = 0

    def _down(self) -> bool:
        return self.down_runs is None or self.runs <= self.down_runs

    def listing(self, prefix: str = "seals/"):
        self.runs += 1  # each run lists the store once, first
        if self._down():
            raise StorageError("connection refused")
        return super().listing(prefix)

    def put(self, name: str, data: bytes) -> None:
        if self._down():
            raise StorageError("connection refused")
        super().put(name, data)


@pytest.fixture
def operators(settings):
    settings.OPERATOR_EMAILS = ["ops@example.test"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings.OPERATOR_EMAILS


@pytest.fixture
def retries(monkeypatch) -> list[dict]:
    """The retries the sealing task queues (their countdowns), instead of a broker."""
    queued: list[dict] = []
    monkeypatch.setattr(tasks.seal_chains, "retry", lambda **options: queued.append(options))
    return queued


@pytest.fixture
def sentry_messages(monkeypatch):
    import sentry_sdk

    sent: list[str] = []
    monkeypatch.setattr(sentry_sdk, "capture_message", lambda text, **kw: sent.append(text))
    return sent


def _platform_events(action: str, after: int = 0) -> list[AuditEvent]:
    with agency_context(None, platform=True):
        return list(AuditEvent.objects.filter(agency__isnull=True, action=action, pk__gt=after))


def _newest_event_id() -> int:
    with agency_context(None, platform=True):
        return (
            AuditEvent.objects.filter(agency__isnull=True)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0
        )


def test_beat_runs_the_sealing_hourly_and_the_verification_nightly():
    app.loader.import_default_modules()
    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("audit.tasks.seal_chains", "audit.tasks.verify_chains"):
        assert name in schedule and name in app.tasks
    assert schedule["audit.tasks.seal_chains"]["schedule"].hour == set(range(24))
    assert len(schedule["audit.tasks.verify_chains"]["schedule"].hour) == 1


def test_a_store_that_is_down_makes_sealing_retry_until_the_seal_is_written(
    tmp_path, monkeypatch, caplog, sentry_messages, operators, retries
):
    agency = committed_agency("store-flaky", events=2)
    start = _newest_event_id()
    store = FlakyStore(tmp_path, down_runs=2)
    monkeypatch.setattr(services, "seal_store", lambda: store)
    for attempt in range(3):  # what the worker does with each queued retry
        outcome = tasks.seal_chains.apply(kwargs={"agency_id": None}, retries=attempt).get()
    assert [r["countdown"] for r in retries] == [60, 120]  # backing off
    assert all(isinstance(r["exc"], tasks.SealStoreDown) for r in retries)
    assert outcome["failed"] == 0
    assert (tmp_path / f"seals/agency-{agency.pk}/0000000001.json").exists()  # third attempt
    assert caplog.text.count("Audit seals could not be written (will retry)") == 2
    assert len(sentry_messages) >= 2
    assert mail.outbox == []  # it recovered: no email
    # Each attempt is a platform audit event; the failed ones say so.
    runs = _platform_events("audit.chains_sealed", after=start)
    assert [bool(e.details["failed"]) for e in sorted(runs, key=lambda e: e.pk)] == [
        True,
        True,
        False,
    ]


def test_a_store_that_stays_down_alerts_the_operators_when_the_retries_run_out(
    tmp_path, monkeypatch, sentry_messages, operators, retries
):
    committed_agency("store-down", events=1)
    start = _newest_event_id()
    store = FlakyStore(tmp_path, down_runs=None)
    monkeypatch.setattr(services, "seal_store", lambda: store)
    tasks.seal_chains.apply(kwargs={"agency_id": None}, retries=tasks.SEAL_RETRIES - 1)
    assert len(retries) == 1 and mail.outbox == []
    outcome = tasks.seal_chains.apply(kwargs={"agency_id": None}, retries=tasks.SEAL_RETRIES).get()
    assert outcome["failed"] >= 1
    assert len(retries) == 1  # no more retries: the operators are told instead
    [message] = mail.outbox
    assert message.to == operators
    assert "retries exhausted" in message.subject
    assert "connection refused" in message.body
    assert len(_platform_events("audit.chains_sealed", after=start)) == 2


def test_the_nightly_verification_alerts_the_operators_of_a_rewritten_chain(
    sentry_messages, operators
):
    agency = committed_agency("nightly-tampered", events=4)
    seal_committed()
    rewrite_and_rehash(agency, 2, {"n": "rewritten"})
    result = tasks.verify_chains.apply(kwargs={"agency_id": None}).get()
    assert result["ok"] is False
    [message] = mail.outbox
    assert message.to == operators
    assert "failed verification" in message.subject
    assert f"agency {agency.pk} ({agency.slug})" in message.body
    assert "first sealed position that no longer matches: position 4" in message.body
    assert any(f"agency {agency.pk}" in text for text in sentry_messages)
    [event] = _platform_events("audit.verify_failed")
    assert any(f"agency {agency.pk}" in problem for problem in event.details["problems"])


def test_the_nightly_verification_of_intact_chains_records_its_event_and_sends_nothing(
    monkeypatch, sentry_messages, operators
):
    agency = committed_agency("nightly-intact", events=3)
    # Other tests leave broken chains in the session's database: look at this agency only.
    monkeypatch.setattr(services, "_agencies", lambda: {agency.pk: agency.slug})
    seal_committed()
    result = tasks.verify_chains.apply(kwargs={"agency_id": None}).get()
    assert result["ok"] is True
    assert result["seals"] >= 1
    assert mail.outbox == []
    assert sentry_messages == []
    [event] = _platform_events("audit.chains_verified")
    assert event.details["problems"] == []
