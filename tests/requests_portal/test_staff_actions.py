"""The staff life cycle of a request through the web UI (acknowledge, route, message, pause,
resume, extend, close, reopen), one audit event per step inside the step's transaction,
and what the staff role may not do.
"""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal import deadlines
from requests_portal.models import (
    ClosureReason,
    Message,
    MessageKind,
    RecordsRequest,
    RequestDepartment,
    Status,
    TimelineEvent,
)
from requests_portal.services import clock, lifecycle, messaging
from tests.requests_portal.helpers import (
    CITATION_REASON,
    PLAIN_REASON,
    body_of,
    calendar_of,
    closure_reason,
    department,
    file_request,
    mail_to,
    public_url,
    reload,
    request_audit_events,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


# --- The staff life cycle --------------------------------------------------------------------


@pytest.mark.clock
def test_publisher_works_a_request_through_its_whole_life_cycle(
    tenant, settings, client_for, django_capture_on_commit_callbacks
):
    settings.SESSION_COOKIE_AGE = 30 * 24 * 60 * 60  # the clock jumps a week ahead below
    filed = file_request(tenant, requester=tenant.requester, title="Bridge inspection reports")
    staff = client_for(tenant.publisher, tenant.host)
    requester = client_for(tenant.requester, tenant.host)
    clerk = department(tenant)
    calendar = calendar_of(tenant)
    seen_events = [e.action for e in request_audit_events(tenant, filed)]
    assert seen_events == ["request.submitted"]

    def post(action, data=None, *, status=302):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff.post(staff_url(action, filed), data or {})
        assert response.status_code == status, body_of(response)
        if status == 302:
            assert response["Location"] == staff_url("detail", filed)
        return response

    def new_audit_actions() -> list[str]:
        events = request_audit_events(tenant, filed)[len(seen_events) :]
        assert all(e.actor_id == tenant.publisher.pk for e in events)
        seen_events.extend(e.action for e in events)
        return [e.action for e in events]

    def timeline_kinds() -> list[str]:
        with agency_context(tenant.agency):
            return list(
                TimelineEvent.objects.filter(request_id=filed.pk).values_list("kind", flat=True)
            )

    mail.outbox.clear()

    # Acknowledge.
    post("acknowledge")
    assert reload(tenant, filed).status == Status.OPEN
    assert new_audit_actions() == ["request.acknowledged"]

    # Route to the Clerk department, with a point of contact.
    post(
        "route",
        {
            "route-departments": [clerk.pk],
            "route-lead": clerk.pk,
            "route-point_of_contact": str(tenant.staff.pk),
        },
    )
    routed = reload(tenant, filed)
    assert routed.point_of_contact_id == tenant.staff.pk
    with agency_context(tenant.agency):
        links = list(RequestDepartment.objects.filter(request_id=filed.pk))
    assert [(link.department_id, link.is_lead) for link in links] == [(clerk.pk, True)]
    assert new_audit_actions() == ["request.routed"]

    # Internal note: staff only.
    post("message", {"kind": "internal", "body": "Ask facilities for the basement boxes."})
    assert "Ask facilities for the basement boxes." in body_of(
        staff.get(staff_url("detail", filed))
    )
    requester_page = body_of(requester.get(public_url(filed)))
    assert "Ask facilities for the basement boxes." not in requester_page
    assert "Internal note added" not in requester_page
    public_page = body_of(client_for(None, tenant.host).get(public_url(filed)))
    assert "Ask facilities for the basement boxes." not in public_page
    assert mail_to(tenant.requester.email) == []
    assert new_audit_actions() == ["request.messaged"]

    # Message to the requester: on their page, and emailed.
    post("message", {"kind": "to_requester", "body": "Which years do you need?"})
    assert "Which years do you need?" in body_of(requester.get(public_url(filed)))
    [email] = mail_to(tenant.requester.email)
    assert "Which years do you need?" in email.body
    assert new_audit_actions() == ["request.messaged"]

    # The requester replies while the request is open.
    response = requester.post(
        reverse("request_reply", args=[filed.number]), {"body": "2019 to 2024, please."}
    )
    assert response.status_code == 302
    assert "2019 to 2024, please." in body_of(staff.get(staff_url("detail", filed)))
    with agency_context(tenant.agency):
        assert Message.objects.filter(request_id=filed.pk, kind=MessageKind.FROM_REQUESTER).exists()
    seen_events.extend(e.action for e in request_audit_events(tenant, filed)[len(seen_events) :])

    # Pause with a reason: paused, the days left shown.
    due_before_pause = reload(tenant, filed).due_date
    post("pause", {"pause-reason": "Waiting for the requester to narrow the dates"})
    paused = reload(tenant, filed)
    assert paused.status == Status.PAUSED
    assert paused.remaining_days == deadlines.remaining_days(
        timezone.now(), due_before_pause, deadlines.CountingMethod.BUSINESS, calendar
    )
    assert paused.remaining_days > 0
    assert f"Paused, {paused.remaining_days} days left" in body_of(
        staff.get(staff_url("detail", filed))
    )
    assert f"{paused.remaining_days} days will remain" in body_of(requester.get(public_url(filed)))
    assert new_audit_actions() == ["request.paused"]

    # Resume a week later: the due date is recomputed from the days that remained.
    a_week_later = timezone.now() + datetime.timedelta(days=7)
    with mock.patch("django.utils.timezone.now", return_value=a_week_later):
        post("resume")
    resumed = reload(tenant, filed)
    expected_due = deadlines.resume(
        a_week_later, paused.remaining_days, deadlines.CountingMethod.BUSINESS, calendar
    )
    assert resumed.status == Status.OPEN
    assert resumed.due_date == expected_due
    assert resumed.due_date > due_before_pause
    assert timeline_kinds()[-1] == "resumed"
    assert new_audit_actions() == ["request.due_date_changed"]

    # Extend by 5 days with a reason: the timeline says who and why; the requester is told.
    mail.outbox.clear()
    post("extend", {"extend-days": "5", "extend-reason": "Boxes are in off-site storage"})
    extended = reload(tenant, filed)
    assert extended.due_date == deadlines.extend(
        resumed.due_date, 5, deadlines.CountingMethod.BUSINESS, calendar
    )
    with agency_context(tenant.agency):
        entry = TimelineEvent.objects.filter(request_id=filed.pk).order_by("id").last()
    assert entry.kind == "extended"
    assert entry.actor_id == tenant.publisher.pk
    assert entry.data["reason"] == "Boxes are in off-site storage"
    assert entry.is_public
    staff_page = body_of(staff.get(staff_url("detail", filed)))
    # Who and why, on one timeline line of the staff page.
    assert f"· {tenant.publisher.email}</span> Extended by 5 days: Boxes are in off-site" in (
        staff_page
    )
    assert "Extended by 5 days: Boxes are in off-site storage" in body_of(
        requester.get(public_url(filed))
    )
    [email] = mail_to(tenant.requester.email)
    assert "by 5 days" in email.body
    assert "Boxes are in off-site storage" in email.body
    assert new_audit_actions() == ["request.due_date_changed"]

    # Close with a reason that needs a citation, without one: refused, still open.
    mail.outbox.clear()
    needs_citation = closure_reason(tenant, CITATION_REASON)
    response = post("close", {"close-reason": needs_citation.pk}, status=400)
    assert "needs the exemption it relies on" in body_of(response)
    assert response.context["forms"]["close"].errors["citation"]
    assert reload(tenant, filed).status == Status.OPEN
    assert mail_to(tenant.requester.email) == []
    assert new_audit_actions() == []

    # Close with the citation: closed, the requester told.
    post("close", {"close-reason": needs_citation.pk, "close-citation": "Gov. Code 7927.705"})
    closed = reload(tenant, filed)
    assert closed.status == Status.CLOSED
    assert closed.closure_reason_id == needs_citation.pk
    assert closed.closure_citation == "Gov. Code 7927.705"
    [email] = mail_to(tenant.requester.email)
    assert filed.number in email.subject
    assert new_audit_actions() == ["request.closed"]

    # Reopen.
    post("reopen", {"reopen-reason": "The requester found more records to ask about"})
    reopened = reload(tenant, filed)
    assert reopened.status == Status.OPEN
    assert reopened.closed_at is None
    assert timeline_kinds()[-1] == "reopened"
    assert new_audit_actions() == ["request.reopened"]


def test_each_staff_step_records_one_audit_event_in_the_web_request_transaction(tenant, client_for):
    # The action's event and the page-view event of the same POST carry one request id: both
    # were written by the one transaction TenantContextMiddleware opens for the request.
    filed = file_request(tenant)
    client_for(tenant.publisher, tenant.host).post(staff_url("acknowledge", filed))

    [event] = [e for e in request_audit_events(tenant, filed) if e.action != "request.submitted"]
    with agency_context(tenant.agency):
        view = AuditEvent.objects.get(
            agency=tenant.agency, action="page.view", details__method="POST"
        )
    assert event.action == "request.acknowledged"
    assert event.request_id and event.request_id == view.request_id
    assert view.details["status"] == 302


def _fail_request_audit(action, **kwargs):
    raise RuntimeError(f"audit refused {action}")


@pytest.mark.parametrize(
    ("step", "call"),
    [
        (
            "acknowledge",
            lambda r, t: lifecycle.request_acknowledge(records_request=r, actor=t.publisher),
        ),
        (
            "pause",
            lambda r, t: clock.request_pause(records_request=r, actor=t.publisher, reason="x"),
        ),
        (
            "extend",
            lambda r, t: clock.request_extend(
                records_request=r, actor=t.publisher, days=5, reason="x"
            ),
        ),
        (
            "message",
            lambda r, t: messaging.request_message(
                records_request=r, actor=t.publisher, kind="to_requester", body="x"
            ),
        ),
        (
            "close",
            lambda r, t: lifecycle.request_close(
                records_request=r,
                actor=t.publisher,
                reason=ClosureReason.objects.get(agency=t.agency, name=PLAIN_REASON),
            ),
        ),
    ],
)
def test_a_step_whose_audit_event_fails_leaves_no_trace(
    step, call, tenant, django_capture_on_commit_callbacks
):
    filed = file_request(tenant, email="ann@example.org")
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        agency_context(tenant.agency),
    ):
        before = (
            TimelineEvent.objects.filter(request_id=filed.pk).count(),
            Message.objects.filter(request_id=filed.pk).count(),
        )
        with (
            mock.patch("audit.record", side_effect=_fail_request_audit),
            pytest.raises(RuntimeError, match="audit refused"),
        ):
            call(RecordsRequest.objects.get(pk=filed.pk), tenant)
        # Still inside the caller's transaction, which goes on: only the service's own
        # transaction may have undone the step.
        after = RecordsRequest.objects.get(pk=filed.pk)
        assert (after.status, after.due_date, after.closed_at) == (
            filed.status,
            filed.due_date,
            None,
        )
        assert before == (
            TimelineEvent.objects.filter(request_id=filed.pk).count(),
            Message.objects.filter(request_id=filed.pk).count(),
        )
    assert callbacks == []  # no email queued
    assert mail.outbox == []


# --- What the staff role may not do ----------------------------------------------------------


def test_staff_role_cannot_message_the_requester(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = file_request(tenant, email="ann@example.org")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(tenant.staff, tenant.host).post(
            staff_url("message", filed), {"kind": "to_requester", "body": "Hello from staff"}
        )

    assert response.status_code == 400
    assert "Select a valid choice" in body_of(response)
    with agency_context(tenant.agency):
        assert not Message.objects.filter(request_id=filed.pk).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("pause", {"pause-reason": "Waiting"}),
        ("extend", {"extend-days": "5", "extend-reason": "Busy"}),
        ("close", {"close-reason": "placeholder"}),
        ("acknowledge", {}),
    ],
)
def test_staff_role_gets_403_on_publisher_actions(action, data, tenant, client_for):
    filed = file_request(tenant)
    if action == "close":
        data = {"close-reason": closure_reason(tenant, PLAIN_REASON).pk}

    response = client_for(tenant.staff, tenant.host).post(staff_url(action, filed), data)

    assert response.status_code == 403
    after = reload(tenant, filed)
    assert (after.status, after.due_date) == (Status.SUBMITTED, filed.due_date)
    assert [e.action for e in request_audit_events(tenant, filed)] == ["request.submitted"]


def test_staff_role_can_add_an_internal_note(tenant, client_for):
    filed = file_request(tenant)

    response = client_for(tenant.staff, tenant.host).post(
        staff_url("message", filed), {"kind": "internal", "body": "Checked the archive room."}
    )

    assert response.status_code == 302
    with agency_context(tenant.agency):
        [note] = Message.objects.filter(request_id=filed.pk)
    assert (note.kind, note.author_id) == (MessageKind.INTERNAL, tenant.staff.pk)
