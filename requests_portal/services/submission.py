"""Filing a request, from the web form or logged by staff: its number, its deadlines, its
requester's account, its first department; the confirmation and the staff notices."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

import audit
from accounts import language
from accounts.models import Agency, User
from requests_portal import audit_events, deadlines, notifications, privacy
from requests_portal.models import (
    SELF_FILED,
    Channel,
    Department,
    DepartmentMember,
    RecordsRequest,
    RequestDepartment,
    RequestSettings,
    RequestType,
)
from requests_portal.services import review
from requests_portal.services.changes import RequestStateError, add_timeline_event, human_date
from requests_portal.services.clock import calendar_for, settings_for
from requests_portal.services.messaging import email_requester

# Raw SQL because the ORM has no INSERT ... ON CONFLICT DO UPDATE ... RETURNING: one statement
# that creates or bumps the counter and locks its row. Values are bound parameters, never
# formatted in. Tested by test_concurrent_submissions_get_distinct_consecutive_numbers.
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
        # nosemgrep: portal-raw-sql -- an upsert that locks the counter; bound
        cursor.execute(_NEXT_NUMBER_SQL, [agency.pk, year])
        number: int = cursor.fetchone()[0]  # RETURNING always gives the one row
        return number


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


@dataclass(frozen=True)
class _Privacy:
    """Who reads the new request: its visibility, the requester's reason for asking it to
    stay private (if they did), and the personal data that holds it from the public."""

    visibility: str
    private_reason: str
    personal_data_kinds: list[str]

    @property
    def held(self) -> bool:
        return bool(self.personal_data_kinds) and privacy.is_public(self.visibility)


def _privacy_for(
    request_settings: RequestSettings,
    department: Department | None,
    *,
    title: str,
    description: str,
    private_reason: str,
) -> _Privacy:
    private_reason = private_reason.strip()
    if private_reason and not request_settings.allow_private_requests:
        raise RequestStateError(_("This agency does not take requests to keep a request private."))
    visibility = privacy.initial_visibility(
        request_settings, department, private=bool(private_reason)
    )
    return _Privacy(visibility, private_reason, privacy.personal_data_kinds(title, description))


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
    custom_data: Mapping[str, object] | None = None,
    submission_key: uuid.UUID | None = None,
    private_reason: str = "",
    http_request: HttpRequest | None = None,
) -> RecordsRequest:
    """File a request: from the web form (``actor`` the signed-in resident or None for a
    guest) or logged by staff from a phone call, letter, email or visit (``received_on``
    is then day 0).

    ``private_reason``: the requester asks for the request to stay private, and why (only
    where the agency allows it): it starts restricted. A request that would be public and
    whose title or description holds personal data is held from the public until staff
    review it (``request_release_description``).

    ``submission_key`` is the filing form's one-time key: the same form sent again (a double
    click, a retried post), even at the same moment, returns the request it already filed."""
    staff_logged = channel not in SELF_FILED
    if submission_key is not None:
        earlier = _filed_with(agency, submission_key, actor, contact, staff_logged=staff_logged)
        if earlier is not None:
            return earlier
    request_settings = settings_for(agency)
    who_reads = _privacy_for(
        request_settings,
        department,
        title=title,
        description=description,
        private_reason=private_reason,
    )
    calendar = calendar_for(agency, request_settings)
    now = timezone.now()
    if channel in SELF_FILED:
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
    if not 2000 <= day_zero.year <= 2099:
        # Numbers show the year as two digits (YY-N): one century only, or they would repeat.
        raise ValueError(f"A request cannot be received in {day_zero.year}.")
    try:
        with transaction.atomic():
            records_request = _file(
                agency=agency,
                actor=actor,
                title=title,
                description=description,
                contact=contact,
                department=department,
                delivery=delivery,
                channel=channel,
                request_type=request_type,
                custom_data=custom_data,
                submission_key=submission_key,
                who_reads=who_reads,
                clock=_Clock(received_at, day_zero, due, acknowledge_due, method),
                http_request=http_request,
            )
    except IntegrityError:
        # Another post of the same form committed first (the key's unique index waited for
        # it): that request is the answer.
        earlier = (
            _filed_with(agency, submission_key, actor, contact, staff_logged=staff_logged)
            if submission_key is not None
            else None
        )
        if earlier is None:
            raise
        return earlier
    return records_request


@dataclass(frozen=True)
class _Clock:
    received_at: datetime.datetime
    day_zero: datetime.date
    due: datetime.date
    acknowledge_due: datetime.date
    method: deadlines.CountingMethod


def _filed_with(
    agency: Agency,
    key: uuid.UUID,
    actor: User | None,
    contact: Contact,
    *,
    staff_logged: bool,
) -> RecordsRequest | None:
    """The request this form already filed, if any. A key is only in the page of whoever
    got the form; should it come back from someone else, it reveals nothing."""
    earlier = RecordsRequest.objects.filter(agency=agency, submission_key=key).first()
    if earlier is None:
        return None
    if staff_logged:
        same = earlier.channel not in SELF_FILED
    elif actor is not None:
        same = earlier.requester_id == actor.pk
    else:
        same = earlier.requester_email.casefold() == contact.email.casefold()
    if not same:
        raise RequestStateError(
            _("This form was already used to file a request. Reload the page to start a new one.")
        )
    return earlier


def _file(
    *,
    agency: Agency,
    actor: User | None,
    title: str,
    description: str,
    contact: Contact,
    department: Department | None,
    delivery: str,
    channel: str,
    request_type: RequestType | None,
    custom_data: Mapping[str, object] | None,
    submission_key: uuid.UUID | None,
    who_reads: _Privacy,
    clock: _Clock,
    http_request: HttpRequest | None,
) -> RecordsRequest:
    """The rows of a new request, its timeline entry, audit event and emails."""
    staff_logged = channel not in SELF_FILED
    received_at, day_zero, due = clock.received_at, clock.day_zero, clock.due
    acknowledge_due, method = clock.acknowledge_due, clock.method
    requester = actor if actor is not None and not staff_logged else None
    if requester is None and contact.email:
        requester = _requester_for(contact.email, contact.name)
    records_request = RecordsRequest.objects.create(
        agency=agency,
        year=day_zero.year,
        sequence=next_request_number(agency, day_zero.year),
        title=title,
        description=description,
        visibility=who_reads.visibility,
        private_reason=who_reads.private_reason,
        personal_data_kinds=who_reads.personal_data_kinds,
        description_held=who_reads.held,
        channel=channel,
        delivery=delivery,
        request_type=request_type,
        custom_data=custom_data or {},
        submission_key=submission_key,
        requester=requester,
        requester_name=contact.name or (requester.full_name if requester else ""),
        requester_email=contact.email or (requester.email if requester else ""),
        language=_filing_language(staff_logged, requester),
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
    with translation.override("en"):  # stored text is English (docs/translation.md)
        channel_name = records_request.get_channel_display().lower()
    add_timeline_event(
        records_request,
        "submitted",
        actor if staff_logged else None,
        # The line of a web request is stamped with its receipt, so the timeline and the
        # request's "Received" agree to the second. Staff log a phone call or a letter when
        # they can, so their line is stamped then and names the day it came in.
        f"Request received ({channel_name}, {human_date(day_zero)}); due {human_date(due)}"
        if staff_logged
        else f"Request received ({channel_name}); due {human_date(due)}",
        public=True,
        data={"due_date": due.isoformat(), "day_zero": day_zero.isoformat()},
        at=None if staff_logged else received_at,
    )
    audit.record(
        audit_events.REQUEST_SUBMITTED.code,
        http_request=http_request,
        agency=agency,
        actor=actor,
        target=records_request,
        details={"number": records_request.number, "channel": channel},
    )
    _record_privacy(records_request, who_reads, actor=actor, http_request=http_request)
    if records_request.requester_email and channel in SELF_FILED:
        email_requester(records_request, "submitted", http_request=http_request)
    notifications.notify_new_request(
        records_request, http_request=http_request, exclude=actor if staff_logged else None
    )
    return records_request


def _record_privacy(
    records_request: RecordsRequest,
    who_reads: _Privacy,
    *,
    actor: User | None,
    http_request: HttpRequest | None,
) -> None:
    """The staff-only timeline entries and audit events of a request filed private, or held
    from the public for personal data. The reason and the values found stay out of the
    audit log (it cannot be erased); the reason is on the request, the values in its text."""
    if who_reads.private_reason:
        add_timeline_event(
            records_request,
            "private_requested",
            None,
            f"The requester asked to keep this request private: {who_reads.private_reason}",
            public=False,
        )
        audit.record_for(
            audit_events.REQUEST_PRIVACY_REQUESTED,
            records_request,
            actor=actor,
            http_request=http_request,
            number=records_request.number,
            visibility=who_reads.visibility,
        )
    if who_reads.held:
        review.record_hold(records_request, actor=actor, http_request=http_request)


def _filing_language(staff_logged: bool, requester: User | None) -> str:
    """The requester's emails follow the language of the page they filed on; a request staff
    log for someone follows that person's stored choice, else the default."""
    if staff_logged:
        return language.of_user(requester)
    return language.active()


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
