"""Emails to agency staff: who gets which notice, honouring their preferences.

Every notice is rendered now and queued through accounts.jobs, which sends it on commit: it
leaves only if the change it announces commits, and SMTP never holds a request open.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts import jobs, language
from accounts.local_time import showing_times_of
from accounts.models import Agency, Membership, Role, User
from accounts.tenancy import agency_origin
from requests_portal import access, deadlines
from requests_portal.models import (
    DepartmentMember,
    NotificationPreference,
    RecordsRequest,
    RequestDepartment,
    Status,
)

PREFERENCE_FIELDS = ("new_requests", "assignments", "requester_messages", "daily_digest")


def _preference_allows(agency: Agency, users: list[User], preference: str) -> list[User]:
    """The active users among ``users`` (once each) who have not turned ``preference`` off."""
    users = list({u.pk: u for u in users if u.is_active and u.email}.values())
    off = set(
        NotificationPreference.objects.filter(
            agency=agency, user__in=users, **{preference: False}
        ).values_list("user_id", flat=True)
    )
    return [u for u in users if u.pk not in off]


def _wants(
    agency: Agency, users: list[User], preference: str, records_request: RecordsRequest
) -> list[User]:
    """Those who want this kind of notice and may open the request it is about."""
    return access.staff_who_can_see(records_request, _preference_allows(agency, users, preference))


def _staff_link(http_request: HttpRequest | None, records_request: RecordsRequest) -> str:
    path = reverse("staff:request_detail", args=[records_request.number])
    if http_request is None:
        return agency_origin(records_request.agency) + path
    return f"{http_request.scheme}://{http_request.get_host()}{path}"


def _render(agency: Agency, template: str, context: dict, lang: str) -> tuple[str, str, str]:
    with translation.override(lang), showing_times_of(agency):
        subject = render_to_string(f"requests_portal/email/staff_{template}_subject.txt", context)
        body = render_to_string(f"requests_portal/email/staff_{template}.txt", context)
        html = render_to_string(f"requests_portal/email/staff_{template}.html", context)
    return " ".join(subject.split()), body, html


def _send(agency: Agency, users: list[User], template: str, context: dict) -> None:
    """Each in the staff member's own language (English unless they chose another)."""
    rendered: dict[str, tuple[str, str, str]] = {}
    for user in users:
        lang = language.of_user(user)
        if lang not in rendered:
            rendered[lang] = _render(agency, template, context, lang)
        subject, body, html = rendered[lang]
        jobs.send_email(
            agency_id=agency.pk, subject=subject, body=body, to=[user.email], html_body=html
        )


def _department_people(records_request: RecordsRequest) -> list[User]:
    agency = records_request.agency
    departments = RequestDepartment.objects.filter(agency=agency, request=records_request).values(
        "department_id"
    )
    links = DepartmentMember.objects.filter(agency=agency, department_id__in=departments)
    return [link.user for link in links.select_related("user")]


def _admins(agency: Agency) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            agency=agency, role=Role.ADMIN, is_active=True, user__is_active=True
        ).select_related("user")
    ]


def notify_new_request(
    records_request: RecordsRequest, *, http_request: HttpRequest | None = None, exclude=None
) -> None:
    """To the people of its departments, or to the agency's admins when it has none."""
    agency = records_request.agency
    people = _department_people(records_request) or _admins(agency)
    people = [u for u in people if exclude is None or u.pk != exclude.pk]
    recipients = _wants(agency, people, "new_requests", records_request)
    _send(
        agency,
        recipients,
        "new_request",
        {"r": records_request, "link": _staff_link(http_request, records_request)},
    )


def notify_assigned(
    records_request: RecordsRequest,
    user: User | None,
    *,
    http_request: HttpRequest | None = None,
    actor=None,
) -> None:
    if user is None or (actor is not None and user.pk == actor.pk):
        return
    agency = records_request.agency
    recipients = _wants(agency, [user], "assignments", records_request)
    _send(
        agency,
        recipients,
        "assigned",
        {"r": records_request, "link": _staff_link(http_request, records_request)},
    )


def notify_requester_message(
    records_request: RecordsRequest, message, *, http_request: HttpRequest | None = None
) -> None:
    agency = records_request.agency
    people = [records_request.point_of_contact] if records_request.point_of_contact else []
    people = people or _department_people(records_request) or _admins(agency)
    recipients = _wants(agency, people, "requester_messages", records_request)
    _send(
        agency,
        recipients,
        "requester_message",
        {
            "r": records_request,
            "message": message,
            "link": _staff_link(http_request, records_request),
        },
    )


def notify_internal_note(
    records_request: RecordsRequest,
    message,
    users: list[User],
    *,
    http_request: HttpRequest | None = None,
):
    """Named colleagues always get a note addressed to them (no preference turns it off)."""
    agency = records_request.agency
    recipients = access.staff_who_can_see(records_request, [u for u in users if u.is_active])
    _send(
        agency,
        recipients,
        "internal_note",
        {
            "r": records_request,
            "message": message,
            "link": _staff_link(http_request, records_request),
        },
    )


def send_digests(agency: Agency, calendar: deadlines.AgencyCalendar, now) -> int:
    """Each point of contact's overdue and due-soon requests, one email each. Returns the
    number of emails queued."""
    open_requests = (
        RecordsRequest.objects.filter(
            agency=agency,
            status__in=[Status.SUBMITTED, Status.OPEN],
            point_of_contact__isnull=False,
        )
        .select_related("point_of_contact")
        .order_by("due_date")
    )
    by_user: dict[int, dict] = {}
    for records_request in open_requests:
        overdue = deadlines.is_overdue(now, records_request.due_date, calendar)
        soon = not overdue and deadlines.is_due_soon(now, records_request.due_date, calendar)
        if not (overdue or soon):
            continue
        entry = by_user.setdefault(
            records_request.point_of_contact_id,
            {"user": records_request.point_of_contact, "overdue": [], "soon": []},
        )
        entry["overdue" if overdue else "soon"].append(records_request)
    # Points of contact can always open their own requests; only the preference filters.
    users = _preference_allows(agency, [e["user"] for e in by_user.values()], "daily_digest")
    for user in users:
        _send(agency, [user], "digest", {"agency": agency, **by_user[user.pk]})
    return len(users)
