"""The legal clock of a request: the agency's deadline settings and calendar, and the
changes that move a due date (pause, resume, extension, a new date). Every due-date change
is on the public timeline, saying who and why."""

from __future__ import annotations

import datetime
from typing import cast

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from requests_portal import audit_events, deadlines
from requests_portal.models import Holiday, RecordsRequest, RequestSettings, Status
from requests_portal.services.changes import (
    RequestStateError,
    add_timeline_event,
    human_date,
    locked,
    mark_responded,
    require_open,
)
from requests_portal.services.messaging import email_requester


def settings_for(agency: Agency) -> RequestSettings:
    # get_or_create retries the read when a concurrent first request created the row.
    return RequestSettings.objects.get_or_create(agency=agency)[0]


def calendar_for(agency: Agency, request_settings: RequestSettings) -> deadlines.AgencyCalendar:
    holidays = frozenset(Holiday.objects.filter(agency=agency).values_list("date", flat=True))
    return deadlines.AgencyCalendar(
        time_zone=agency.time_zone, holidays=holidays, cutoff=request_settings.cutoff
    )


def _calendar(records_request: RecordsRequest) -> deadlines.AgencyCalendar:
    return calendar_for(records_request.agency, settings_for(records_request.agency))


def _change_due(
    records_request: RecordsRequest,
    actor: User,
    new_due: datetime.date,
    *,
    kind: str,
    summary: str,
    reason: str,
    http_request: HttpRequest | None,
) -> None:
    """Every due-date change goes through here: the timeline says who and why, publicly.
    Saves the request first, then audits: every writer takes the request row before the
    audit chain's lock, so two actions on one request never deadlock."""
    old_due = records_request.due_date
    records_request.due_date = new_due
    records_request.save()
    add_timeline_event(
        records_request,
        kind,
        actor,
        summary,
        public=True,
        data={"from": old_due.isoformat(), "to": new_due.isoformat(), "reason": reason},
    )
    audit.record(
        audit_events.REQUEST_DUE_DATE_CHANGED.code,
        http_request=http_request,
        agency=records_request.agency,
        actor=actor,
        target=records_request,
        details={"from": old_due.isoformat(), "to": new_due.isoformat(), "reason": reason},
    )


@locked
def request_pause(
    *,
    records_request: RecordsRequest,
    actor: User,
    reason: str,
    http_request: HttpRequest | None = None,
) -> None:
    """Stop the clock (waiting for clarification or payment): keep the days that remain."""
    require_open(records_request, "paused")
    if records_request.is_paused:
        raise RequestStateError("This request is already paused.")
    now = timezone.now()
    method = deadlines.CountingMethod(records_request.counting_method)
    remaining = deadlines.remaining_days(
        now, records_request.due_date, method, _calendar(records_request)
    )
    with transaction.atomic():
        records_request.status = Status.PAUSED
        records_request.paused_at = now
        records_request.pause_reason = reason[:200]
        records_request.remaining_days = remaining
        records_request.save(
            update_fields=["status", "paused_at", "pause_reason", "remaining_days", "updated_at"]
        )
        add_timeline_event(
            records_request,
            "paused",
            actor,
            f"Clock paused: {reason}" if reason else "Clock paused",
            public=True,
            data={"remaining_days": remaining},
        )
        audit.record_for(
            audit_events.REQUEST_PAUSED,
            records_request,
            actor=actor,
            http_request=http_request,
            remaining_days=remaining,
            reason=reason,
        )


@locked
def request_resume(
    *, records_request: RecordsRequest, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Restart the clock: the due date is recomputed from the days that remained."""
    if not records_request.is_paused:
        raise RequestStateError("This request is not paused.")
    method = deadlines.CountingMethod(records_request.counting_method)
    remaining = records_request.remaining_days or 0
    calendar = _calendar(records_request)
    now = timezone.now()
    if remaining > 0:
        new_due = deadlines.resume(now, remaining, method, calendar)
    else:
        # Paused when already due or overdue: the clock only moves by the days spent paused,
        # so a pause cannot turn an overdue request into an on-time one.
        # request_pause sets paused_at with the paused status (checked above).
        paused_at = cast(datetime.datetime, records_request.paused_at)
        paused_days = deadlines.counting_days_between(
            calendar.local_date(paused_at),
            calendar.local_date(now),
            method,
            calendar,
        )
        # No counting day spent paused: the due date stays where it was. (extend() by 0 would
        # still roll a due date that staff set on a weekend to the next business day.)
        new_due = (
            deadlines.extend(records_request.due_date, paused_days, method, calendar)
            if paused_days
            else records_request.due_date
        )
    with transaction.atomic():
        records_request.status = (
            Status.OPEN if records_request.acknowledged_at else Status.SUBMITTED
        )
        records_request.paused_at = None
        records_request.pause_reason = ""
        records_request.remaining_days = None
        _change_due(
            records_request,
            actor,
            new_due,
            kind="resumed",
            summary=(
                f"Clock restarted with {remaining} days left; due {human_date(new_due)}"
                if remaining
                else f"Clock restarted (it was already due when paused); due {human_date(new_due)}"
            ),
            reason="resumed",
            http_request=http_request,
        )


@locked
def request_extend(
    *,
    records_request: RecordsRequest,
    actor: User,
    days: int,
    reason: str,
    http_request: HttpRequest | None = None,
) -> None:
    require_open(records_request, "extended")
    if records_request.is_paused:
        raise RequestStateError("Resume the request before extending it.")
    method = deadlines.CountingMethod(records_request.counting_method)
    try:
        new_due = deadlines.extend(
            records_request.due_date, days, method, _calendar(records_request)
        )
    except ValueError:
        raise RequestStateError(
            "That extension goes past any date the calendar can hold."
        ) from None
    with transaction.atomic():
        _change_due(
            records_request,
            actor,
            new_due,
            kind="extended",
            summary=f"Extended by {days} days: {reason}; now due {human_date(new_due)}",
            reason=reason,
            http_request=http_request,
        )
        mark_responded(records_request, timezone.now())
        email_requester(
            records_request, "extended", http_request=http_request, days=days, reason=reason
        )


@locked
def request_set_due_date(
    *,
    records_request: RecordsRequest,
    actor: User,
    due_date: datetime.date,
    reason: str,
    http_request: HttpRequest | None = None,
) -> None:
    require_open(records_request, "rescheduled")
    if records_request.is_paused:
        raise RequestStateError("Resume the request before changing its due date.")
    with transaction.atomic():
        _change_due(
            records_request,
            actor,
            due_date,
            kind="due_date_changed",
            summary=f"Due date changed to {human_date(due_date)}: {reason}",
            reason=reason,
            http_request=http_request,
        )
