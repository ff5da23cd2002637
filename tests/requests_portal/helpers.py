"""Builders shared by the requests tests: requests filed through the service, the rows and
audit events they leave, the URLs of their pages, a resident's form data, the emails sent.

Rows are created inside ``agency_context`` (row-level security hides them otherwise). The
fixtures every web test of the app uses (``agency_defaults``, ``fresh_rate_limits``) are in
tests/requests_portal/conftest.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal import deadlines
from requests_portal.models import (
    ClosureReason,
    Department,
    DepartmentMember,
    RecordsRequest,
    RequestSettings,
)
from requests_portal.services import clock, submission

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
CITATION_REASON = "Denied: an exemption applies"
PLAIN_REASON = "Records released in full"


def set_request_settings(tenant, **changes) -> None:
    with agency_context(tenant.agency):
        RequestSettings.objects.filter(agency=tenant.agency).update(**changes)


def file_request(
    tenant,
    *,
    title: str = "Council minutes 2025",
    description: str = "The minutes of every council meeting in 2025.",
    visibility: str | None = None,
    requester=None,
    name: str = "",
    email: str = "",
    department: Department | None = None,
    point_of_contact=None,
) -> RecordsRequest:
    """A web request filed through the service (``requester``: signed in, else a guest)."""
    with agency_context(tenant.agency):
        records_request = submission.request_submit(
            agency=tenant.agency,
            actor=requester,
            title=title,
            description=description,
            contact=submission.Contact(name=name, email=email),
            department=department,
            channel="web",
        )
        changes = {}
        if visibility is not None:
            changes["visibility"] = visibility
        if point_of_contact is not None:
            changes["point_of_contact"] = point_of_contact
        if changes:
            RecordsRequest.objects.filter(pk=records_request.pk).update(**changes)
        return RecordsRequest.objects.get(pk=records_request.pk)


def reload(tenant, records_request) -> RecordsRequest:
    with agency_context(tenant.agency):
        return RecordsRequest.objects.get(pk=records_request.pk)


def requests_of(tenant) -> list[RecordsRequest]:
    with agency_context(tenant.agency):
        return list(RecordsRequest.objects.filter(agency=tenant.agency).order_by("sequence"))


def department(tenant, name: str = "Clerk") -> Department:
    with agency_context(tenant.agency):
        found, _ = Department.objects.get_or_create(agency=tenant.agency, name=name)
        return found


def add_to_department(tenant, user, dept: Department, *, point_of_contact=False) -> None:
    with agency_context(tenant.agency):
        DepartmentMember.objects.create(
            agency=tenant.agency, department=dept, user=user, is_point_of_contact=point_of_contact
        )


def closure_reason(tenant, name: str) -> ClosureReason:
    with agency_context(tenant.agency):
        return ClosureReason.objects.get(agency=tenant.agency, name=name)


def request_audit_events(tenant, records_request) -> list[AuditEvent]:
    """The request.* events about this request, oldest first (page views left out)."""
    with agency_context(tenant.agency):
        return list(
            AuditEvent.objects.filter(
                agency=tenant.agency,
                action__startswith="request.",
                target_id=str(records_request.pk),
            ).order_by("id")
        )


def staff_url(action: str, records_request) -> str:
    return reverse(f"staff:request_{action}", args=[records_request.number])


def public_url(records_request) -> str:
    return reverse("request_detail", args=[records_request.number])


def form_data(**overrides) -> dict:
    data = {
        "title": "Police reports for 100 Main St",
        "description": "All incident reports for 100 Main St, March 2026.",
        "delivery": "electronic",
        "name": "Ann Resident",
        "email": "ann@example.org",
        "phone": "",
        "address": "",
        "website": "",
    }
    data.update(overrides)
    return data


def mail_to(address: str) -> list:
    """Emails sent to ``address`` (staff notices about the same events go to staff)."""
    return [m for m in mail.outbox if address in m.to]


def body_of(response) -> str:
    return response.content.decode()


def calendar_of(tenant) -> deadlines.AgencyCalendar:
    with agency_context(tenant.agency):
        return clock.calendar_for(tenant.agency, clock.settings_for(tenant.agency))


def emailed_link(tenant, client_for, django_capture_on_commit_callbacks, **data) -> str:
    data = form_data(**data)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(None, tenant.host).post(reverse("request_new"), data)
    link = urlsplit(re.search(r"https?://\S+", mail_to(data["email"])[-1].body).group())
    assert link.path.startswith("/requests/")
    return f"{link.path}?{link.query}"
