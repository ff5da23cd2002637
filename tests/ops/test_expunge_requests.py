"""Expunge requests in the platform admin (issue 13): one operator records a customer's
request, a second one approves it by typing the agency's slug, the worker expunges the agency
as the tables' owner and the page shows the counts. Four eyes, a wrong slug, a cancel, a
double post, a killed run resumed, two runs at once, bad input, and who may see the pages.

The flows that really expunge run in the backup tests' own committed database (the expunge
takes the audit table's ACCESS EXCLUSIVE lock and commits), on a thread whose connection is
the app role (tests/ops/helpers.py ``run_in``): the pages are driven there with the test
client, and the expunge task runs in-process when the approval commits, as it does without
a broker."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from accounts import once
from accounts.models import Agency, Role
from accounts.tenancy import agency_context
from audit.audit_events import AGENCY_EXPUNGED
from audit.models import AuditEvent
from ops import audit_events, expunge, tasks
from ops.expunges import jobs, services
from ops.models import ExpungeRequest
from tests.audit.helpers import unique_slug
from tests.documents.helpers import stored_document
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.form_helpers import form_values, token_of
from tests.ops.helpers import run_in, superuser_database
from tests.requests_portal.helpers import file_request

Status = ExpungeRequest.Status
SECRET = b"%PDF-1.4 minutes of an agency that left"


def _platform_events(code: str, **details: Any) -> list[AuditEvent]:
    with agency_context(None, platform=True):
        events = AuditEvent.objects.filter(agency=None, action=code).order_by("pk")
        return [e for e in events if all(e.details.get(k) == v for k, v in details.items())]


def _agency_with_data(prefix: str) -> SimpleNamespace:
    """An agency with a staff member, a request, a stored document (ciphertext and escrow
    key) and audit events."""
    slug = unique_slug(prefix)
    agency = AgencyFactory(slug=slug, name=f"{prefix.title()} Agency")
    with agency_context(agency):
        staff = UserFactory(email=f"staff@{slug}.test")
        MembershipFactory(agency=agency, user=staff, role=Role.STAFF)
    tenant = SimpleNamespace(
        agency=agency, staff=staff, host=f"{slug}.{settings.PORTAL_BASE_DOMAIN}"
    )
    records_request = file_request(tenant, requester=UserFactory(email=f"r@{slug}.test"))
    stored_document(records_request, SECRET, actor=staff)
    return tenant


def _operator(name: str):
    return UserFactory(email=f"{name}-{unique_slug('op')}@platform.test", is_staff=True)


def _blobs_of(agency_id: int) -> list[str]:
    found = []
    for root in (settings.DOCUMENTS_LOCAL_ROOT, settings.KEYSTORE_LOCAL_ROOT):
        found += [str(p) for p in root.rglob("*") if f"agency-{agency_id}/" in str(p)]
    return [p for p in found if not p.endswith("/")]


def _tenant_rows(database: str, agency_id: int) -> int:
    """Rows holding the agency's id in any table (as the superuser: no row-level security)."""
    total = 0
    with superuser_database(database).connect() as conn:
        tables = conn.execute(
            "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND a.attname = 'agency_id' AND c.relkind = 'r'"
        ).fetchall()
        for (table,) in tables:
            total += conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE agency_id = %s', [agency_id]
            ).fetchone()[0]
        total += conn.execute(
            "SELECT count(*) FROM accounts_agency WHERE id = %s", [agency_id]
        ).fetchone()[0]
    return total


# --- The whole flow, through the pages ---------------------------------------------------------


def test_request_approve_by_another_operator_and_the_expunge_runs(backups, client_for):
    base = settings.PORTAL_BASE_DOMAIN

    def flow() -> dict[str, Any]:
        tenant = _agency_with_data("leaving")
        agency_id = tenant.agency.pk
        assert _blobs_of(agency_id)
        alice, bob = _operator("alice"), _operator("bob")
        a, b = client_for(alice, base), client_for(bob, base)

        # Operator A records the customer's request: nothing happens to the agency yet.
        form = a.get(reverse("ops:expunge_new"))
        assert form.status_code == 200 and tenant.agency.slug in form.content.decode()
        answer = a.post(
            reverse("ops:expunge_new"),
            {
                "agency": agency_id,
                "customer_contact": "Dana Clerk, city clerk, dana@city.test",
                "reference": "TICKET-4711",
                "note": "Contract ended; all data to be deleted.",
            },
        )
        assert answer.status_code == 302
        request = ExpungeRequest.objects.get(agency_ref=agency_id)
        assert answer["Location"] == reverse("ops:expunge", kwargs={"request_id": request.pk})
        assert request.status == Status.REQUESTED and request.requested_by == alice
        assert Agency.objects.get(pk=agency_id).is_active
        page = a.get(answer["Location"]).content.decode()
        assert "TICKET-4711" in page and "another operator approves it" in page
        assert 'name="confirm"' not in page  # A is offered no approval

        approve = reverse("ops:expunge_approve", kwargs={"request_id": request.pk})
        # A cannot approve their own request (four eyes), even with the right slug.
        refused = a.post(approve, {"confirm": tenant.agency.slug})
        assert (
            refused.status_code == 400
            and "another operator must approve" in refused.content.decode()
        )
        # B with a wrong slug: a field error, nothing changes.
        wrong = b.post(approve, {"confirm": "not-the-slug"})
        assert wrong.status_code == 400
        assert "That is not the agency&#x27;s slug" in wrong.content.decode()
        assert 'id="id_confirm_error"' in wrong.content.decode()
        request.refresh_from_db()
        assert request.status == Status.REQUESTED and Agency.objects.get(pk=agency_id).is_active

        # B with the right slug: approved, the agency offline, the expunge runs (in-process
        # here, as without a broker) when the approval commits.
        approved = b.post(approve, {"confirm": tenant.agency.slug})
        assert approved.status_code == 302
        request.refresh_from_db()
        done_page = b.get(approved["Location"]).content.decode()
        again = b.post(approve, {"confirm": tenant.agency.slug})
        tasks.run_expunge.apply(kwargs={"agency_id": None, "request_id": request.pk}).get()
        request.refresh_from_db()
        return {
            "agency_id": agency_id,
            "host": tenant.host,
            "request": request,
            "done_page": done_page,
            "again": again.status_code,
            "bob": bob.pk,
            "expunged": _platform_events(AGENCY_EXPUNGED.code, agency_id=agency_id),
            "finished": _platform_events(audit_events.EXPUNGE_FINISHED.code, request=request.pk),
            "agency_left": Agency.objects.filter(pk=agency_id).exists(),
        }

    seen = run_in(backups.database, flow)
    request = seen["request"]
    assert request.status == Status.DONE and request.attempts == 1
    assert request.rows["documents_documentversion"] == 1
    assert request.rows["accounts_agency"] == 1 and request.rows_total > 5
    assert request.blobs_total == 2 and request.blobs_deleted == 2
    assert request.finished_at is not None and request.deactivated_on_approval
    assert "Done: nothing of the agency is left." in seen["done_page"]
    assert "documents_documentversion" in seen["done_page"]
    assert 'http-equiv="refresh"' not in seen["done_page"]
    # A second approval is refused; a redelivered task does nothing: one expunge, one event.
    assert seen["again"] == 400
    (event,) = seen["expunged"]
    assert event.details["request"] == request.pk and event.actor_id == seen["bob"]
    assert event.details["rows"] == request.rows
    assert len(seen["finished"]) == 1
    assert not seen["agency_left"]
    assert _tenant_rows(backups.database, seen["agency_id"]) == 0
    assert _blobs_of(seen["agency_id"]) == []


def test_each_step_is_audited_on_the_platform_chain(backups):
    def flow() -> list[str]:
        tenant = _agency_with_data("audited")
        alice, bob = _operator("alice"), _operator("bob")
        created = services.expunge_request_create(
            operator=alice, agency_id=tenant.agency.pk, customer_contact="c", reference="r"
        )
        services.expunge_request_approve(
            operator=bob, request_id=created.pk, confirm_slug=tenant.agency.slug
        )
        with agency_context(None, platform=True):
            events = AuditEvent.objects.filter(agency=None).order_by("pk")
            return [e.action for e in events if e.details.get("request") == created.pk]

    actions = run_in(backups.database, flow)
    assert actions == [
        audit_events.EXPUNGE_REQUESTED.code,
        audit_events.EXPUNGE_APPROVED.code,
        audit_events.EXPUNGE_STARTED.code,
        AGENCY_EXPUNGED.code,
        audit_events.EXPUNGE_FINISHED.code,
    ]


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no status is written."""


def test_a_run_killed_after_the_rows_resumes_from_the_ledger(backups, monkeypatch):
    def approved() -> tuple[int, int]:
        tenant = _agency_with_data("killed")
        created = services.expunge_request_create(
            operator=_operator("alice"),
            agency_id=tenant.agency.pk,
            customer_contact="c",
            reference="r",
        )
        monkeypatch.setattr(jobs, "enqueue", lambda *a, **kw: None)  # the task is lost
        services.expunge_request_approve(
            operator=_operator("bob"), request_id=created.pk, confirm_slug=tenant.agency.slug
        )
        monkeypatch.undo()
        return created.pk, tenant.agency.pk

    request_id, agency_id = run_in(backups.database, approved)

    def die(*args: Any, **kwargs: Any) -> None:
        raise Killed

    monkeypatch.setattr(expunge, "_delete_blobs", die)
    with pytest.raises(Killed):  # the worker's process dies here
        run_in(
            backups.database,
            lambda: tasks.run_expunge.apply(kwargs={"agency_id": None, "request_id": request_id}),
        )
    monkeypatch.undo()
    halfway = run_in(backups.database, lambda: ExpungeRequest.objects.get(pk=request_id))
    # The rows went, with their counts, in one transaction; the blobs are still there.
    assert halfway.status == Status.RUNNING and halfway.phase == "blobs"
    assert halfway.rows["documents_documentversion"] == 1 and halfway.blobs_total == 2
    assert _tenant_rows(backups.database, agency_id) == 0
    assert len(_blobs_of(agency_id)) == 2

    # The broker hands the task out again: it resumes from the ledger.
    outcome = run_in(
        backups.database,
        lambda: tasks.run_expunge.apply(kwargs={"agency_id": None, "request_id": request_id}).get(),
    )
    assert outcome == Status.DONE
    assert _blobs_of(agency_id) == []

    def after() -> tuple[ExpungeRequest, int, int]:
        return (
            ExpungeRequest.objects.get(pk=request_id),
            len(_platform_events(AGENCY_EXPUNGED.code, agency_id=agency_id)),
            len(_platform_events(audit_events.EXPUNGE_STARTED.code, request=request_id)),
        )

    done, expunged_events, starts = run_in(backups.database, after)
    assert done.status == Status.DONE and done.attempts == 2
    assert done.rows == halfway.rows and done.blobs_deleted == 2
    assert expunged_events == 1 and starts == 2
    # Once more (a third delivery): nothing to do.
    again = run_in(
        backups.database,
        lambda: tasks.run_expunge.apply(kwargs={"agency_id": None, "request_id": request_id}).get(),
    )
    assert again == Status.DONE
    assert run_in(backups.database, after)[1:] == (1, 2)


def test_a_run_while_another_holds_the_request_is_busy_and_changes_nothing(backups, monkeypatch):
    def approved() -> tuple[int, int]:
        tenant = _agency_with_data("busy")
        created = services.expunge_request_create(
            operator=_operator("alice"),
            agency_id=tenant.agency.pk,
            customer_contact="c",
            reference="r",
        )
        monkeypatch.setattr(jobs, "enqueue", lambda *a, **kw: None)
        services.expunge_request_approve(
            operator=_operator("bob"), request_id=created.pk, confirm_slug=tenant.agency.slug
        )
        monkeypatch.undo()
        return created.pk, tenant.agency.pk

    request_id, agency_id = run_in(backups.database, approved)
    with superuser_database(backups.database).connect(autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [services._LOCK_CLASS, request_id])
        busy = run_in(backups.database, lambda: services.expunge_request_run(request_id))
    assert busy == "busy"
    assert (
        run_in(backups.database, lambda: ExpungeRequest.objects.get(pk=request_id).status)
        == Status.APPROVED
    )
    assert _tenant_rows(backups.database, agency_id) > 0
    assert run_in(backups.database, lambda: services.expunge_request_run(request_id)) == Status.DONE
    assert _tenant_rows(backups.database, agency_id) == 0


# --- Bad input, cancel, and the rules (no expunge runs: the test's own transaction) --------------


@pytest.fixture
def alice(db):
    return _operator("alice")


@pytest.fixture
def bob(db):
    return _operator("bob")


@pytest.fixture
def no_run(monkeypatch):
    """Approvals send nothing to the worker (the expunge itself is tested above)."""
    sent: list[dict] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, **kw: sent.append(kw))
    return sent


def _create(operator, agency, **more) -> ExpungeRequest:
    values = {"customer_contact": "Dana", "reference": "T-1", **more}
    return services.expunge_request_create(operator=operator, agency_id=agency.pk, **values)


def test_an_unknown_agency_is_a_field_error(alice, client_for, settings):
    client = client_for(alice, settings.PORTAL_BASE_DOMAIN)
    answer = client.post(
        reverse("ops:expunge_new"), {"agency": 10**9, "customer_contact": "x", "reference": "y"}
    )
    assert answer.status_code == 400
    assert "Choose an agency from the list" in answer.content.decode()
    with pytest.raises(services.ExpungeRequestError, match="no such agency") as error:
        services.expunge_request_create(
            operator=alice, agency_id=10**9, customer_contact="x", reference="y"
        )
    assert error.value.field == "agency"
    assert not ExpungeRequest.objects.exists()


def test_an_agency_already_expunged_is_a_clear_error(alice):
    with agency_context(None, platform=True):
        done = ExpungeRequest.objects.create(
            agency_ref=424242,
            agency_slug="gone-agency",
            agency_name="Gone",
            customer_contact="c",
            reference="r",
            requested_by=alice,
            status=Status.DONE,
        )
    with pytest.raises(
        services.ExpungeRequestError, match=f"already expunged \\(request {done.pk}\\)"
    ):
        services.expunge_request_create(
            operator=alice, agency_id=424242, customer_contact="x", reference="y"
        )


def test_an_agency_with_an_open_request_is_refused(alice, bob, tenant, client_for, settings):
    first = _create(alice, tenant.agency)
    client = client_for(bob, settings.PORTAL_BASE_DOMAIN)
    answer = client.post(
        reverse("ops:expunge_new"),
        {"agency": tenant.agency.pk, "customer_contact": "again", "reference": "T-2"},
    )
    assert answer.status_code == 400
    body = answer.content.decode()
    assert f"already has an open expunge request ({first.pk}, requested)" in body
    assert ExpungeRequest.objects.filter(agency_ref=tenant.agency.pk).count() == 1
    # Cancelled, a new one may be recorded.
    services.expunge_request_cancel(operator=bob, request_id=first.pk)
    assert _create(bob, tenant.agency).status == Status.REQUESTED


def test_cancel_before_the_run_puts_the_agency_back(alice, bob, tenant, no_run):
    request = _create(alice, tenant.agency)
    services.expunge_request_approve(
        operator=bob, request_id=request.pk, confirm_slug=tenant.agency.slug
    )
    assert no_run == [{"agency_id": None, "request_id": request.pk}]
    tenant.agency.refresh_from_db()
    assert not tenant.agency.is_active
    services.expunge_request_cancel(operator=alice, request_id=request.pk)
    request.refresh_from_db()
    tenant.agency.refresh_from_db()
    assert request.status == Status.CANCELLED and request.cancelled_by == alice
    assert tenant.agency.is_active
    (event,) = _platform_events(audit_events.EXPUNGE_CANCELLED.code, request=request.pk)
    assert event.details["reactivated"] is True
    # A cancelled request never runs, even if its task was already on its way.
    with pytest.raises(services.ExpungeRequestError, match="cancelled"):
        services.expunge_request_cancel(operator=alice, request_id=request.pk)
    with pytest.raises(services.ExpungeRequestError, match="cancelled"):
        services.expunge_request_approve(
            operator=bob, request_id=request.pk, confirm_slug=tenant.agency.slug
        )


def test_an_inactive_agency_stays_inactive_after_a_cancel(alice, bob, tenant, no_run):
    Agency.objects.filter(pk=tenant.agency.pk).update(is_active=False)
    request = _create(alice, tenant.agency)
    services.expunge_request_approve(
        operator=bob, request_id=request.pk, confirm_slug=tenant.agency.slug
    )
    services.expunge_request_cancel(operator=bob, request_id=request.pk)
    assert not Agency.objects.get(pk=tenant.agency.pk).is_active


def test_the_approved_agency_is_offline(alice, bob, tenant, client_for, no_run):
    assert client_for(None, tenant.host).get("/").status_code == 200
    request = _create(alice, tenant.agency)
    services.expunge_request_approve(
        operator=bob, request_id=request.pk, confirm_slug=tenant.agency.slug
    )
    assert client_for(None, tenant.host).get("/").status_code == 404
    assert client_for(tenant.admin, tenant.host).get("/staff/").status_code == 404


def test_a_failed_run_can_be_sent_again(alice, bob, tenant, no_run, client_for, settings):
    request = _create(alice, tenant.agency)
    with agency_context(None, platform=True):
        ExpungeRequest.objects.filter(pk=request.pk).update(status=Status.FAILED, error="disk full")
    client = client_for(bob, settings.PORTAL_BASE_DOMAIN)
    page = client.get(reverse("ops:expunge", kwargs={"request_id": request.pk})).content.decode()
    assert "disk full" in page and "Run it again" in page
    answer = client.post(reverse("ops:expunge_rerun", kwargs={"request_id": request.pk}))
    assert answer.status_code == 302
    assert no_run == [{"agency_id": None, "request_id": request.pk}]
    assert len(_platform_events(audit_events.EXPUNGE_RERUN.code, request=request.pk)) == 1
    # A request waiting for approval cannot be "run again".
    other = _create(alice, AgencyFactory(slug=unique_slug("other")))
    refused = client.post(reverse("ops:expunge_rerun", kwargs={"request_id": other.pk}))
    assert refused.status_code == 302
    assert "Only a failed request" in client.get(refused["Location"]).content.decode()
    assert len(no_run) == 1


def test_a_running_request_shows_its_progress_and_reloads_itself(
    alice, tenant, client_for, settings
):
    request = _create(alice, tenant.agency)
    with agency_context(None, platform=True):
        ExpungeRequest.objects.filter(pk=request.pk).update(
            status=Status.RUNNING,
            phase="blobs",
            rows={"a": 3, "b": 4},
            blobs_total=10,
            blobs_deleted=4,
        )
    client = client_for(alice, settings.PORTAL_BASE_DOMAIN)
    page = client.get(reverse("ops:expunge", kwargs={"request_id": request.pk})).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "(4 of 10)" in page and "Rows deleted: 7" in page and "Reload now" in page
    listing = client.get(reverse("ops:expunges")).content.decode()
    assert "Running" in listing and "4 / 10" in listing


# --- Who reaches the pages ---------------------------------------------------------------------


def test_nobody_but_operators_on_the_platform_reaches_the_pages(
    client, client_for, tenant, alice, settings
):
    request = _create(alice, tenant.agency)
    base = settings.PORTAL_BASE_DOMAIN
    pages = [
        reverse("ops:expunges"),
        reverse("ops:expunge_new"),
        reverse("ops:expunge", kwargs={"request_id": request.pk}),
    ]
    actions = [
        reverse(name, kwargs={"request_id": request.pk})
        for name in ("ops:expunge_approve", "ops:expunge_cancel", "ops:expunge_rerun")
    ]
    for url in pages + actions:
        anonymous = (
            client.post(url, HTTP_HOST=base) if url in actions else client.get(url, HTTP_HOST=base)
        )
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], url
        for user, host in (
            (tenant.admin, base),
            (tenant.admin, tenant.host),
            (tenant.requester, base),
            (alice, tenant.host),  # an operator on an agency's host
        ):
            who = client_for(user, host)
            answer = (
                who.post(url, {"confirm": tenant.agency.slug}) if url in actions else who.get(url)
            )
            assert answer.status_code == 404, (url, user.email, host)
    for url in pages:
        assert client_for(alice, base).get(url).status_code == 200, url
    unverified = client_for(alice, base, second_factor=False).get(pages[0])
    assert unverified.status_code == 302 and "two-factor" in unverified["Location"]
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
    assert (
        client_for(alice, base)
        .get(reverse("ops:expunge", kwargs={"request_id": request.pk + 99}))
        .status_code
        == 404
    )


# --- Sent twice (tests/test_once_forms.py lists these views in OWN_TESTS) ------------------------


def _send_twice(client, page: str, action: str, extra: dict | None = None):
    client.handler.enforce_csrf_checks = True
    values = form_values(client.get(page), action)
    token_of(values)
    values.update(extra or {})
    first = client.post(action, values)
    again = client.post(action, values)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()


def test_each_form_sent_twice_acts_once(
    alice, bob, tenant, other_tenant, client_for, settings, no_run
):
    base = settings.PORTAL_BASE_DOMAIN
    a, b = client_for(alice, base), client_for(bob, base)
    _send_twice(
        a,
        reverse("ops:expunge_new"),
        reverse("ops:expunge_new"),
        {"agency": str(tenant.agency.pk), "customer_contact": "Dana", "reference": "T-9"},
    )
    (request,) = ExpungeRequest.objects.filter(agency_ref=tenant.agency.pk)
    page = reverse("ops:expunge", kwargs={"request_id": request.pk})
    _send_twice(
        b,
        page,
        reverse("ops:expunge_approve", kwargs={"request_id": request.pk}),
        {"confirm": tenant.agency.slug},
    )
    assert len(no_run) == 1
    assert len(_platform_events(audit_events.EXPUNGE_APPROVED.code, request=request.pk)) == 1
    _send_twice(b, page, reverse("ops:expunge_cancel", kwargs={"request_id": request.pk}))
    assert len(_platform_events(audit_events.EXPUNGE_CANCELLED.code, request=request.pk)) == 1

    failed = _create(alice, other_tenant.agency)
    with agency_context(None, platform=True):
        ExpungeRequest.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    _send_twice(
        b,
        reverse("ops:expunge", kwargs={"request_id": failed.pk}),
        reverse("ops:expunge_rerun", kwargs={"request_id": failed.pk}),
    )
    assert len(_platform_events(audit_events.EXPUNGE_RERUN.code, request=failed.pk)) == 1
    assert len(no_run) == 2


def test_the_task_runs_on_the_maintenance_queue_and_resumes_after_a_kill():
    from celery import current_app

    route = current_app.amqp.router.route({}, "ops.tasks.run_expunge")
    assert route["queue"].name == "maintenance"
    assert tasks.run_expunge.acks_late
    assert tasks.run_expunge.soft_time_limit < tasks.run_expunge.time_limit
    assert tasks.run_expunge.time_limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
        "visibility_timeout", 1800
    )
