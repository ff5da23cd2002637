"""Every write to a records request: one transaction each, with its timeline entry and its
audit event inside it, side effects (email) queued on commit.

All functions are keyword-only and take the acting user (``actor``, None for the public)
and optionally the HTTP request (``http``) so the audit event carries IP and request id.
The caller must already be inside the agency's row-level-security context (every web
request and task is).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import jobs
from accounts.models import Agency, User
from accounts.tenancy import agency_origin
from requests_portal import audit_events, deadlines, notifications
from requests_portal.models import (
    Channel,
    ClosureReason,
    Department,
    DepartmentMember,
    Holiday,
    Message,
    MessageKind,
    RecordsRequest,
    RequestDepartment,
    RequestSettings,
    RequestType,
    Status,
    TimelineEvent,
    Visibility,
)
from requests_portal.tracking import tracking_token


class RequestStateError(Exception):
    """The action does not apply to the request in its current state (shown to the user)."""


def human_date(day: datetime.date) -> str:
    """A date as people write it: November 3, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


# --- Settings and calendar -----------------------------------------------------------------


def settings_for(agency: Agency) -> RequestSettings:
    # get_or_create retries the read when a concurrent first request created the row.
    return RequestSettings.objects.get_or_create(agency=agency)[0]


def calendar_for(agency: Agency, request_settings: RequestSettings) -> deadlines.AgencyCalendar:
    holidays = frozenset(Holiday.objects.filter(agency=agency).values_list("date", flat=True))
    return deadlines.AgencyCalendar(
        time_zone=agency.time_zone, holidays=holidays, cutoff=request_settings.cutoff
    )


def holidays_load_defaults(*, agency: Agency, years: list[int], actor: User | None = None) -> int:
    """Add the US federal (and the agency's state) holidays for these years; keeps edits."""
    request_settings = settings_for(agency)
    defaults = deadlines.default_holidays(years, state=request_settings.state or None)
    existing = set(Holiday.objects.filter(agency=agency).values_list("date", flat=True))
    new = [
        Holiday(agency=agency, date=day, name=name[:120])
        for day, name in sorted(defaults.items())
        if day not in existing
    ]
    with transaction.atomic():
        Holiday.objects.bulk_create(new)
        if new and actor is not None:
            audit.record(
                audit_events.SETTINGS_CHANGED.code,
                agency=agency,
                actor=actor,
                details={"holidays_added": len(new), "years": years},
            )
    return len(new)


DEFAULT_CLOSURE_REASONS = [
    ("Records released in full", False),
    ("Records released in part (some withheld)", True),
    ("No responsive records", False),
    ("Withdrawn by the requester", False),
    ("Denied: an exemption applies", True),
    ("Referred to another agency", False),
]


def agency_setup_defaults(
    *, agency: Agency, state: str = "", years: list[int] | None = None
) -> None:
    """Give a new agency working defaults: deadline settings, closure reasons, holidays.
    Safe to run again: it adds only what is missing."""
    with transaction.atomic():
        request_settings = settings_for(agency)
        if state and not request_settings.state:
            request_settings.state = state
            request_settings.save(update_fields=["state"])
        for name, requires_citation in DEFAULT_CLOSURE_REASONS:
            ClosureReason.objects.get_or_create(
                agency=agency, name=name, defaults={"requires_citation": requires_citation}
            )
        this_year = timezone.now().year
        holidays_load_defaults(agency=agency, years=years or [this_year, this_year + 1])


# --- Numbers -------------------------------------------------------------------------------

_NEXT_NUMBER_SQL = """
    INSERT INTO requests_portal_requestcounter (agency_id, year, last_number)
    VALUES (%s, %s, 1)
    ON CONFLICT (agency_id, year)
    DO UPDATE SET last_number = requests_portal_requestcounter.last_number + 1
    RETURNING last_number
"""


def next_request_number(agency: Agency, year: int) -> int:
    """The next number of the agency's yearly sequence. The upsert locks the counter row
    until the caller's transaction ends, so concurrent submissions get distinct numbers."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_NUMBER_SQL, [agency.pk, year])
        return cursor.fetchone()[0]


# --- Submitting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""


def _requester_for(email: str, name: str) -> User | None:
    """The account a guest's request belongs to, created without a password if new (the
    confirmation email lets them set one)."""
    if not email:
        return None
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, None, full_name=name[:200])
    return user


def _initial_visibility(request_settings: RequestSettings, department: Department | None) -> str:
    if department is not None and department.default_visibility:
        return department.default_visibility
    return request_settings.default_visibility


def request_submit(
    *,
    agency: Agency,
    actor: User | None,
    title: str,
    description: str,
    contact: Contact,
    department: Department | None = None,
    delivery: str = "electronic",
    channel: str = Channel.WEB,
    received_on: datetime.date | None = None,
    request_type: RequestType | None = None,
    custom_data: dict | None = None,
    http=None,
) -> RecordsRequest:
    """File a request: from the web form (``actor`` the signed-in resident or None for a
    guest) or logged by staff from a phone call, letter, email or visit (``received_on``
    is then day 0)."""
    request_settings = settings_for(agency)
    calendar = calendar_for(agency, request_settings)
    now = timezone.now()
    if channel == Channel.WEB:
        received_at = now
        day_zero = deadlines.day_zero(now, calendar, web_submission=True)
    else:
        day_zero = received_on or calendar.local_date(now)
        # Logged the day it came in: now. Logged later: noon of that day (the hour is unknown,
        # and noon never puts a response before the receipt in the reports).
        received_at = (
            now if day_zero == calendar.local_date(now) else _local_noon(day_zero, calendar)
        )
    # A request type carries its own legal clock; otherwise the agency's rule applies.
    rule = request_type or request_settings
    method = deadlines.CountingMethod(rule.response_method)
    due = deadlines.add_counting_days(day_zero, rule.response_days, method, calendar)
    acknowledge_due = deadlines.add_counting_days(
        day_zero,
        request_settings.acknowledge_days,
        deadlines.CountingMethod(request_settings.acknowledge_method),
        calendar,
    )
    staff_logged = channel != Channel.WEB
    if not 2000 <= day_zero.year <= 2099:
        # Numbers show the year as two digits (YY-N): one century only, or they would repeat.
        raise ValueError(f"A request cannot be received in {day_zero.year}.")
    with transaction.atomic():
        requester = actor if actor is not None and not staff_logged else None
        if requester is None and contact.email:
            requester = _requester_for(contact.email, contact.name)
        records_request = RecordsRequest.objects.create(
            agency=agency,
            year=day_zero.year,
            sequence=next_request_number(agency, day_zero.year),
            title=title,
            description=description,
            visibility=_initial_visibility(request_settings, department),
            channel=channel,
            delivery=delivery,
            request_type=request_type,
            custom_data=custom_data or {},
            requester=requester,
            requester_name=contact.name or (requester.full_name if requester else ""),
            requester_email=contact.email or (requester.email if requester else ""),
            requester_phone=contact.phone,
            requester_address=contact.address,
            received_at=received_at,
            day_zero=day_zero,
            due_date=due,
            acknowledge_due_date=acknowledge_due,
            counting_method=method,
        )
        if department is not None:
            _route(records_request, department, lead=True)
        add_timeline_event(
            records_request,
            "submitted",
            actor if staff_logged else None,
            f"Request received ({records_request.get_channel_display().lower()}); "
            f"due {human_date(due)}",
            public=True,
            data={"due_date": due.isoformat(), "day_zero": day_zero.isoformat()},
        )
        audit.record(
            audit_events.REQUEST_SUBMITTED.code,
            http_request=http,
            agency=agency,
            actor=actor,
            target=records_request,
            details={"number": records_request.number, "channel": channel},
        )
        if records_request.requester_email and channel == Channel.WEB:
            _email_requester(records_request, "submitted", http=http)
        notifications.notify_new_request(
            records_request, http=http, exclude=actor if staff_logged else None
        )
    return records_request


def _local_noon(day: datetime.date, calendar: deadlines.AgencyCalendar) -> datetime.datetime:
    zone = calendar.end_of_day(day).tzinfo
    return datetime.datetime.combine(day, datetime.time(12, 0), tzinfo=zone)


def _route(records_request: RecordsRequest, department: Department, *, lead: bool) -> None:
    RequestDepartment.objects.get_or_create(
        agency=records_request.agency,
        request=records_request,
        department=department,
        defaults={"is_lead": lead},
    )
    if lead and records_request.point_of_contact_id is None:
        contact = (
            DepartmentMember.objects.filter(
                agency=records_request.agency, department=department, is_point_of_contact=True
            )
            .order_by("pk")
            .first()
        )
        if contact is not None:
            records_request.point_of_contact_id = contact.user_id
            records_request.save(update_fields=["point_of_contact", "updated_at"])


def add_timeline_event(
    records_request: RecordsRequest,
    kind: str,
    actor: User | None,
    summary: str,
    *,
    public: bool,
    data: dict | None = None,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        agency=records_request.agency,
        request=records_request,
        kind=kind,
        actor=actor,
        is_public=public,
        summary=summary[:300],
        data=data or {},
    )


def _origin(records_request: RecordsRequest, http) -> str:
    """Scheme and host for links in emails: the request's, or the agency's own address."""
    if http is not None:
        return f"{http.scheme}://{http.get_host()}"
    return agency_origin(records_request.agency)


def _email_requester(records_request: RecordsRequest, template: str, *, http=None, **extra):
    """Queue an email to the requester once the transaction commits."""
    if not records_request.requester_email:
        return
    path = reverse("request_detail", args=[records_request.number])
    link = f"{_origin(records_request, http)}{path}?t={tracking_token(records_request)}"
    context = {"r": records_request, "agency": records_request.agency, "link": link, **extra}
    subject = render_to_string(f"requests_portal/email/{template}_subject.txt", context)
    body = render_to_string(f"requests_portal/email/{template}.txt", context)
    html = render_to_string(f"requests_portal/email/{template}.html", context)
    jobs.send_email(
        agency_id=records_request.agency_id,
        subject=" ".join(subject.split()),
        body=body,
        to=[records_request.requester_email],
        html_body=html,
    )


# --- Staff workflow ------------------------------------------------------------------------


def _responded(records_request: RecordsRequest, when: datetime.datetime) -> None:
    """Remember the agency's first response (reports measure time to it); caller saves."""
    if records_request.first_response_at is None:
        records_request.first_response_at = when
        records_request.save(update_fields=["first_response_at", "updated_at"])


def _lock(records_request: RecordsRequest) -> None:
    """Re-read the request under a row lock before changing it: two actions on one request
    run one after the other and each checks the state the other left. Every writer takes
    the request row before the audit chain's lock, so they never deadlock."""
    records_request.refresh_from_db(
        from_queryset=RecordsRequest.objects.select_for_update().filter(
            agency=records_request.agency_id
        )
    )


def _locked(service):
    """Run a service on one request inside a transaction that first locks the request's row,
    so its state checks see the latest state (a close and a pause cannot interleave)."""

    @functools.wraps(service)
    def wrapper(*, records_request: RecordsRequest, **kwargs):
        with transaction.atomic():
            _lock(records_request)
            return service(records_request=records_request, **kwargs)

    return wrapper


def _require_open(records_request: RecordsRequest, action: str) -> None:
    if records_request.is_closed:
        raise RequestStateError(f"A closed request cannot be {action}. Reopen it first.")


@_locked
def request_acknowledge(*, records_request: RecordsRequest, actor: User, http=None) -> None:
    _require_open(records_request, "acknowledged")
    if records_request.acknowledged_at is not None:
        raise RequestStateError("This request has already been acknowledged.")
    with transaction.atomic():
        if records_request.status == Status.SUBMITTED:
            records_request.status = Status.OPEN  # a paused request stays paused
        records_request.acknowledged_at = timezone.now()
        records_request.save(update_fields=["status", "acknowledged_at", "updated_at"])
        _responded(records_request, records_request.acknowledged_at)
        add_timeline_event(
            records_request, "acknowledged", actor, "Request acknowledged", public=True
        )
        audit.record(
            audit_events.REQUEST_ACKNOWLEDGED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
        )


@_locked
def request_route(
    *,
    records_request: RecordsRequest,
    actor: User,
    departments: list[Department],
    lead: Department | None,
    point_of_contact: User | None,
    http=None,
) -> None:
    """Set the request's departments (one lead, the others support) and point of contact."""
    previous_contact = records_request.point_of_contact_id
    with transaction.atomic():
        keep = {d.pk for d in departments}
        RequestDepartment.objects.filter(
            agency=records_request.agency, request=records_request
        ).exclude(department_id__in=keep).delete()
        for department in departments:
            link, _ = RequestDepartment.objects.get_or_create(
                agency=records_request.agency, request=records_request, department=department
            )
            is_lead = lead is not None and department.pk == lead.pk
            if link.is_lead != is_lead:
                link.is_lead = is_lead
                link.save(update_fields=["is_lead"])
        records_request.point_of_contact = point_of_contact
        records_request.save(update_fields=["point_of_contact", "updated_at"])
        names = ", ".join(sorted(d.name for d in departments)) or "no department"
        contact = point_of_contact.email if point_of_contact else "nobody"
        add_timeline_event(
            records_request,
            "routed",
            actor,
            f"Routed to {names}; point of contact {contact}",
            public=False,
            data={"departments": sorted(keep), "lead": lead.pk if lead else None},
        )
        audit.record(
            audit_events.REQUEST_ROUTED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={
                "departments": sorted(keep),
                "point_of_contact": getattr(point_of_contact, "pk", None),
            },
        )
        if point_of_contact is not None and point_of_contact.pk != previous_contact:
            notifications.notify_assigned(records_request, point_of_contact, http=http, actor=actor)


@_locked
def request_message(
    *,
    records_request: RecordsRequest,
    actor: User | None,
    kind: str,
    body: str,
    notify: list[User] | None = None,
    http=None,
) -> Message:
    if kind != MessageKind.INTERNAL:
        _require_open(records_request, "messaged")
    with transaction.atomic():
        message = Message.objects.create(
            agency=records_request.agency,
            request=records_request,
            kind=kind,
            author=actor,
            body=body,
        )
        labels = {
            MessageKind.INTERNAL: "Internal note added",
            MessageKind.TO_REQUESTER: "Message sent to the requester",
            MessageKind.FROM_REQUESTER: "Message from the requester",
            MessageKind.PUBLIC_NOTE: "Note added",
        }
        add_timeline_event(
            records_request,
            f"message_{kind}",
            actor,
            labels[MessageKind(kind)],
            public=kind != MessageKind.INTERNAL,
            data={"message": message.pk},
        )
        audit.record(
            audit_events.REQUEST_MESSAGED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={"kind": kind, "message": message.pk},
        )
        if kind == MessageKind.TO_REQUESTER:
            _responded(records_request, message.created_at)
            _email_requester(records_request, "message", http=http, message=message)
        elif kind == MessageKind.FROM_REQUESTER:
            notifications.notify_requester_message(records_request, message, http=http)
        elif kind == MessageKind.INTERNAL and notify:
            notifications.notify_internal_note(records_request, message, notify, http=http)
    return message


def _change_due(
    records_request: RecordsRequest,
    actor: User,
    new_due: datetime.date,
    *,
    kind: str,
    summary: str,
    reason: str,
    http,
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
        http_request=http,
        agency=records_request.agency,
        actor=actor,
        target=records_request,
        details={"from": old_due.isoformat(), "to": new_due.isoformat(), "reason": reason},
    )


def _calendar(records_request: RecordsRequest) -> deadlines.AgencyCalendar:
    return calendar_for(records_request.agency, settings_for(records_request.agency))


@_locked
def request_pause(*, records_request: RecordsRequest, actor: User, reason: str, http=None) -> None:
    """Stop the clock (waiting for clarification or payment): keep the days that remain."""
    _require_open(records_request, "paused")
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
        audit.record(
            audit_events.REQUEST_PAUSED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={"remaining_days": remaining, "reason": reason},
        )


@_locked
def request_resume(*, records_request: RecordsRequest, actor: User, http=None) -> None:
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
        paused_days = deadlines.counting_days_between(
            calendar.local_date(records_request.paused_at),
            calendar.local_date(now),
            method,
            calendar,
        )
        new_due = deadlines.extend(records_request.due_date, paused_days, method, calendar)
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
            http=http,
        )


@_locked
def request_extend(
    *, records_request: RecordsRequest, actor: User, days: int, reason: str, http=None
) -> None:
    _require_open(records_request, "extended")
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
            http=http,
        )
        _responded(records_request, timezone.now())
        _email_requester(records_request, "extended", http=http, days=days, reason=reason)


@_locked
def request_set_due_date(
    *, records_request: RecordsRequest, actor: User, due_date: datetime.date, reason: str, http=None
) -> None:
    _require_open(records_request, "rescheduled")
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
            http=http,
        )


@_locked
def request_close(
    *,
    records_request: RecordsRequest,
    actor: User,
    reason: ClosureReason,
    citation: str = "",
    note: str = "",
    http=None,
) -> None:
    _require_open(records_request, "closed again")
    if reason.agency_id != records_request.agency_id or not reason.is_active:
        raise RequestStateError("Choose one of the agency's closure reasons.")
    if reason.requires_citation and not citation.strip():
        raise RequestStateError(f"“{reason.name}” needs the exemption it relies on.")
    now = timezone.now()
    request_settings = settings_for(records_request.agency)
    with transaction.atomic():
        records_request.status = Status.CLOSED
        records_request.closed_at = now
        records_request.closure_reason = reason
        records_request.closure_citation = citation.strip()[:300]
        records_request.paused_at = None
        records_request.pause_reason = ""
        records_request.remaining_days = None
        records_request.public_from = now + datetime.timedelta(days=request_settings.embargo_days)
        if records_request.first_response_at is None:
            records_request.first_response_at = now
        records_request.save()
        summary = f"Closed: {reason.name}" + (f" ({citation.strip()})" if citation.strip() else "")
        add_timeline_event(
            records_request, "closed", actor, summary, public=True, data={"note": note}
        )
        if note.strip():
            Message.objects.create(
                agency=records_request.agency,
                request=records_request,
                kind=MessageKind.TO_REQUESTER,
                author=actor,
                body=note.strip(),
            )
        audit.record(
            audit_events.REQUEST_CLOSED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={"reason": reason.name, "citation": citation.strip()},
        )
        _email_requester(records_request, "closed", http=http, reason=reason, note=note)


@_locked
def request_reopen(*, records_request: RecordsRequest, actor: User, reason: str, http=None) -> None:
    if not records_request.is_closed:
        raise RequestStateError("Only a closed request can be reopened.")
    with transaction.atomic():
        # Never acknowledged: back to "submitted", so the acknowledgement is still asked for.
        records_request.status = (
            Status.OPEN if records_request.acknowledged_at else Status.SUBMITTED
        )
        records_request.closed_at = None
        records_request.closure_reason = None
        records_request.closure_citation = ""
        records_request.public_from = None
        records_request.save()
        add_timeline_event(records_request, "reopened", actor, f"Reopened: {reason}", public=True)
        audit.record(
            audit_events.REQUEST_REOPENED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={"reason": reason},
        )


@_locked
def request_set_visibility(
    *, records_request: RecordsRequest, actor: User, visibility: str, http=None
) -> None:
    if visibility not in Visibility.values:
        raise RequestStateError("Choose one of the visibility levels.")
    old = records_request.visibility
    if old == visibility:
        return
    with transaction.atomic():
        records_request.visibility = visibility
        records_request.save(update_fields=["visibility", "updated_at"])
        add_timeline_event(
            records_request,
            "visibility_changed",
            actor,
            f"Visibility: {Visibility(old).label} → {Visibility(visibility).label}",
            public=False,
            data={"from": old, "to": visibility},
        )
        audit.record(
            audit_events.REQUEST_VISIBILITY_CHANGED.code,
            http_request=http,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={"from": old, "to": visibility},
        )


def publish_due_embargoes(*, agency: Agency) -> int:
    """Put embargoed requests whose embargo has ended into the public search index.

    Their pages turn public by themselves (access.public_requests compares public_from with
    the clock); the index is kept by a trigger that runs on writes, so touch the rows."""
    from requests_portal.models import PublicSearchEntry

    indexed = PublicSearchEntry.objects.filter(agency=agency).values("request_id")
    due = RecordsRequest.objects.filter(
        agency=agency, visibility=Visibility.EMBARGOED, public_from__lte=timezone.now()
    ).exclude(pk__in=indexed)
    return due.update(visibility=Visibility.EMBARGOED)
