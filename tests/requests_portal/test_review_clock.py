"""Regression tests from the review of the requests app: the legal clock state machine."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from accounts.local_time import agency_today
from accounts.tenancy import agency_context
from requests_portal.models import ClosureReason, RecordsRequest, Status
from tests.requests_portal.helpers import file_request, reload

# The legal clock counts days from today: every test here depends on the date (clock).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def _set_due(tenant, r, day):
    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk=r.pk).update(due_date=day)


def test_pausing_and_resuming_keeps_an_overdue_request_overdue(tenant, client_for):
    r = file_request(tenant)
    long_ago = agency_today(tenant.agency) - datetime.timedelta(days=40)
    _set_due(tenant, r, long_ago)
    staff = client_for(tenant.publisher, tenant.host)
    staff.post(reverse("staff:request_pause", args=[r.number]), {"pause-reason": "clarify"})
    staff.post(reverse("staff:request_resume", args=[r.number]))
    after = reload(tenant, r)
    # Overdue by 40 days; after a pause+resume it is due today or later: no longer overdue.
    assert after.due_date == long_ago, after.due_date


def test_a_far_future_or_pre_receipt_due_date_is_a_field_error(tenant, client_for):
    r = file_request(tenant)
    staff = client_for(tenant.publisher, tenant.host)
    for typo in ("2200-01-01", "2001-01-01"):
        resp = staff.post(
            reverse("staff:request_due_date", args=[r.number]),
            {"due-due_date": typo, "due-reason": "typo"},
        )
        assert resp.status_code == 400
    resp = staff.post(reverse("staff:request_pause", args=[r.number]), {"pause-reason": "x"})
    assert resp.status_code == 302


def test_a_due_date_at_the_end_of_the_calendar_never_gives_a_500(tenant, client_for):
    r = file_request(tenant)
    staff = client_for(tenant.publisher, tenant.host)
    staff.post(
        reverse("staff:request_due_date", args=[r.number]),
        {"due-due_date": "9999-12-30", "due-reason": "typo"},
    )
    resp = staff.post(
        reverse("staff:request_extend", args=[r.number]),
        {"extend-days": "5", "extend-reason": "more"},
    )
    assert resp.status_code < 500


def test_a_due_date_before_day_zero_is_refused(tenant, client_for):
    r = file_request(tenant)
    staff = client_for(tenant.publisher, tenant.host)
    resp = staff.post(
        reverse("staff:request_due_date", args=[r.number]),
        {"due-due_date": "2001-01-01", "due-reason": "oops"},
    )
    assert reload(tenant, r).due_date != datetime.date(2001, 1, 1), resp.status_code


def test_closing_a_paused_request_clears_the_pause_and_reopening_asks_for_acknowledgement(
    tenant, client_for
):
    r = file_request(tenant)
    staff = client_for(tenant.publisher, tenant.host)
    staff.post(reverse("staff:request_pause", args=[r.number]), {"pause-reason": "fees"})
    paused = reload(tenant, r)
    assert paused.status == Status.PAUSED and paused.remaining_days
    with agency_context(tenant.agency):
        reason = ClosureReason.objects.get(agency=tenant.agency, name="No responsive records")
    resp = staff.post(reverse("staff:request_close", args=[r.number]), {"close-reason": reason.pk})
    closed = reload(tenant, r)
    assert closed.status == Status.CLOSED, resp
    staff.post(reverse("staff:request_reopen", args=[r.number]), {"reopen-reason": "mistake"})
    reopened = reload(tenant, r)
    print(
        "status",
        reopened.status,
        "ack",
        reopened.acknowledged_at,
        "remaining",
        reopened.remaining_days,
        "pause_reason",
        repr(reopened.pause_reason),
        "due",
        reopened.due_date,
    )
    # Never acknowledged, yet "In progress"; the acknowledge button is gone for good.
    assert not (reopened.status == Status.OPEN and reopened.acknowledged_at is None)


def test_a_paused_request_can_still_be_acknowledged(tenant, client_for):
    r = file_request(tenant)
    staff = client_for(tenant.publisher, tenant.host)
    staff.post(reverse("staff:request_pause", args=[r.number]), {"pause-reason": "fees"})
    resp = staff.post(reverse("staff:request_acknowledge", args=[r.number]), follow=True)
    print([str(m) for m in resp.context["messages"]])
    assert reload(tenant, r).acknowledged_at is not None
