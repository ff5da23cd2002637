"""The self-scan's runner, task, command and operator pages (issue 13): results stored per
check, an audit event per run, the operators told (email, Sentry) of anything not passed,
and pages only platform operators reach (everyone else: 404), escaped."""

from __future__ import annotations

import pytest
import sentry_sdk
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

import ops.selfscan as selfscan
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from ops import tasks
from ops.models import ScanRun
from ops.selfscan import ERROR, FINDINGS, NOT_CHECKED, PASSED, CheckResult
from ops.selfscan.services import self_scan_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return UserFactory(email="olive@platform.test", full_name="Olive Operator", is_staff=True)


@pytest.fixture
def fake_checks(monkeypatch):
    """The registry replaced by checks the test chooses: ``use(name=result or exception)``."""

    def use(**results):
        registry = {}
        for name, outcome in results.items():

            def run(outcome=outcome):
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome

            registry[name] = selfscan.Check(name, name.title(), run)
        monkeypatch.setattr(selfscan, "_checks", registry)

    return use


@pytest.fixture
def told(settings, monkeypatch):
    settings.OPERATOR_EMAILS = ["ops@example.test"]
    sent: list[str] = []
    monkeypatch.setattr(sentry_sdk, "capture_message", lambda text, **kw: sent.append(text))
    return sent


def _platform_events(code: str) -> list[AuditEvent]:
    with agency_context(None, platform=True):
        return list(AuditEvent.objects.filter(agency=None, action=code))


def test_a_run_stores_each_check_and_tells_the_operators_of_what_did_not_pass(fake_checks, told):
    fake_checks(
        deploy=CheckResult(PASSED, "fine"),
        headers=CheckResult(NOT_CHECKED, "The portal could not be reached."),
        documents=CheckResult(FINDINGS, "1 finding", ["alpha: a.pdf: ssn ***-**-4321"], 1),
        broken=RuntimeError("boom"),
    )
    run = self_scan_run(trigger=ScanRun.Trigger.SCHEDULE)
    run.refresh_from_db()
    assert run.status == ERROR and run.finished_at is not None
    statuses = {c["name"]: c["status"] for c in run.checks}
    assert statuses == {
        "deploy": PASSED,
        "headers": NOT_CHECKED,
        "documents": FINDINGS,
        "broken": ERROR,
    }
    assert run.checks[2]["findings"] == ["alpha: a.pdf: ssn ***-**-4321"]
    # Email and Sentry: the checks that did not pass, never the one that did.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.test"]
    assert "could not be reached" in message.body and "***-**-4321" in message.body
    assert "Deploy: Passed" not in message.body
    assert len(told) == 1 and "Headers: Not checked" in told[0]
    (event,) = _platform_events("ops.self_scan_run")
    assert event.details["run"] == run.pk and event.details["status"] == ERROR


def test_a_clean_run_tells_nobody(fake_checks, told):
    fake_checks(deploy=CheckResult(PASSED, "fine"))
    run = self_scan_run(trigger=ScanRun.Trigger.SCHEDULE)
    assert run.status == PASSED
    assert mail.outbox == [] and told == []
    assert len(_platform_events("ops.self_scan_run")) == 1


def test_not_checked_is_never_passed(fake_checks, told):
    fake_checks(a=CheckResult(PASSED, "fine"), b=CheckResult(NOT_CHECKED, "unreachable"))
    assert self_scan_run(trigger=ScanRun.Trigger.SCHEDULE).status == NOT_CHECKED
    assert len(mail.outbox) == 1


def test_the_task_and_the_command_run_the_scan(fake_checks, told, operator):
    fake_checks(deploy=CheckResult(PASSED, "fine"))
    result = tasks.self_scan.apply(
        kwargs={"agency_id": None, "trigger": "operator", "requested_by_id": operator.pk}
    ).get()
    run = ScanRun.objects.get(pk=result["run"])
    assert run.requested_by == operator and run.trigger == "operator" and run.status == PASSED
    call_command("self_scan")
    fake_checks(deploy=CheckResult(FINDINGS, "bad", ["security.W004: no HSTS"], 1))
    with pytest.raises(CommandError, match="Findings"):
        call_command("self_scan")
    assert ScanRun.objects.filter(trigger="command").count() == 2


def test_the_task_runs_weekly_on_the_maintenance_queue(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["self-scan"]
    assert entry["task"] == "ops.tasks.self_scan"
    assert entry["schedule"].day_of_week == {0}
    assert tasks.self_scan.soft_time_limit < tasks.self_scan.time_limit <= 1740
    from celery import current_app

    route = current_app.amqp.router.route({}, "ops.tasks.self_scan")
    assert route["queue"].name == "maintenance"


def test_the_real_checks_are_registered():
    names = {check.name for check in selfscan.checks()}
    assert names == {"deploy", "headers", "dependencies", "public_documents"}


# --- The operator pages ---------------------------------------------------------------------


def _run_with(findings: list[str]) -> ScanRun:
    with agency_context(None, platform=True):
        return ScanRun.objects.create(
            trigger=ScanRun.Trigger.SCHEDULE,
            status=FINDINGS,
            checks=[
                {
                    "name": "public_documents",
                    "label": "Public documents: personal data",
                    "status": FINDINGS,
                    "summary": "1 finding",
                    "findings": findings,
                    "total": len(findings),
                }
            ],
        )


def test_operators_see_the_runs_and_each_run_s_findings_escaped(client_for, operator, settings):
    run = _run_with(["alpha: <script>alert(1)</script>.pdf: ssn ***-**-4321"])
    client = client_for(operator, settings.PORTAL_BASE_DOMAIN)
    listing = client.get(reverse("ops:scan_runs"))
    assert listing.status_code == 200
    assert reverse("ops:scan_run", kwargs={"run_id": run.pk}) in listing.content.decode()
    page = client.get(reverse("ops:scan_run", kwargs={"run_id": run.pk}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert "***-**-4321" in body
    assert client.get(reverse("ops:scan_run", kwargs={"run_id": run.pk + 1000})).status_code == 404


def test_nobody_else_reaches_the_pages(client, client_for, tenant, operator, settings):
    run = _run_with([])
    base = settings.PORTAL_BASE_DOMAIN
    urls = [reverse("ops:scan_runs"), reverse("ops:scan_run", kwargs={"run_id": run.pk})]
    for url in urls:
        anonymous = client.get(url, HTTP_HOST=base)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        # Agency people, even an agency's admin, on the platform or their agency's host.
        assert client_for(tenant.admin, base).get(url).status_code == 404
        assert client_for(tenant.admin, tenant.host).get(url).status_code == 404
        # Operators on an agency's host: the page is the platform's only.
        assert client_for(operator, tenant.host).get(url).status_code == 404
    # Without a recent second factor: sent to set one up first.
    unverified = client_for(operator, base, second_factor=False).get(urls[0])
    assert unverified.status_code == 302 and "two-factor" in unverified["Location"]


def test_an_outsider_cannot_run_a_scan(
    client_for, outsider, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client_for(outsider, settings.PORTAL_BASE_DOMAIN).post(reverse("ops:scan_run_now"))
    assert answer.status_code == 404
    assert callbacks == []
    assert _platform_events("ops.self_scan_requested") == []


def test_run_now_sends_the_scan_to_the_worker_and_is_audited(
    client_for, operator, settings, django_capture_on_commit_callbacks
):
    client = client_for(operator, settings.PORTAL_BASE_DOMAIN)
    assert client.get(reverse("ops:scan_run_now")).status_code == 405
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(reverse("ops:scan_run_now"))
    assert answer.status_code == 302 and answer["Location"] == reverse("ops:scan_runs")
    jobs = [c for c in callbacks if getattr(c, "task_name", "") == "ops.tasks.self_scan"]
    assert len(jobs) == 1
    assert jobs[0].kwargs == {
        "agency_id": None,
        "trigger": "operator",
        "requested_by_id": operator.pk,
    }
    (event,) = _platform_events("ops.self_scan_requested")
    assert event.actor_id == operator.pk


def test_run_now_sent_twice_queues_one_scan(
    client_for, operator, settings, django_capture_on_commit_callbacks
):
    """The one-time form token (tests/test_once_forms.py lists this test in OWN_TESTS)."""
    from accounts import once
    from tests.form_helpers import form_values, token_of

    client = client_for(operator, settings.PORTAL_BASE_DOMAIN)
    client.handler.enforce_csrf_checks = True
    action = reverse("ops:scan_run_now")
    values = form_values(client.get(reverse("ops:scan_runs")), action)
    token_of(values)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client.post(action, values)
        again = client.post(action, values)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    jobs = [c for c in callbacks if getattr(c, "task_name", "") == "ops.tasks.self_scan"]
    assert len(jobs) == 1
    assert len(_platform_events("ops.self_scan_requested")) == 1
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()
