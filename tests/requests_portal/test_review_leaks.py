"""Regression tests from the review of the requests app: no leaks through notifications
or templates."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal.models import (
    Department,
    DepartmentMember,
    ResponseTemplate,
    TemplateKind,
    Visibility,
)
from requests_portal.services import submission
from tests.requests_portal.helpers import add_to_department, department, file_request, reload

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def test_an_internal_note_cannot_be_emailed_to_staff_who_cannot_see_the_request(
    tenant, client_for, django_capture_on_commit_callbacks
):
    r = file_request(
        tenant,
        title="Sealed personnel file",
        visibility=Visibility.RESTRICTED,
        point_of_contact=tenant.publisher,
    )
    # tenant.staff may not see it:
    assert (
        client_for(tenant.staff, tenant.host)
        .get(reverse("staff:request_detail", args=[r.number]))
        .status_code
        == 404
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(tenant.publisher, tenant.host).post(
            reverse("staff:request_message", args=[r.number]),
            {
                "kind": "internal",
                "body": "TOP SECRET internal note",
                "notify": [str(tenant.staff.pk)],
            },
        )
    # They are not even offered: the form refuses the choice and nothing is saved or sent.
    assert response.status_code == 400
    leaked = [m for m in mail.outbox if tenant.staff.email in m.to]
    assert leaked == [], [m.body for m in leaked]


def test_a_new_restricted_request_is_not_emailed_to_department_members_who_cannot_see_it(
    tenant, client_for, django_capture_on_commit_callbacks
):
    with agency_context(tenant.agency):
        dept = Department.objects.create(
            agency=tenant.agency, name="Internal Affairs", default_visibility=Visibility.RESTRICTED
        )
        DepartmentMember.objects.create(agency=tenant.agency, department=dept, user=tenant.staff)
    with django_capture_on_commit_callbacks(execute=True), agency_context(tenant.agency):
        r = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Complaint about officer X",
            description="Confidential description of the complaint",
            contact=submission.Contact(name="Ann", email="ann@example.org"),
            department=dept,
        )
    assert r.visibility == Visibility.RESTRICTED
    assert (
        client_for(tenant.staff, tenant.host)
        .get(reverse("staff:request_detail", args=[r.number]))
        .status_code
        == 404
    )
    leaked = [m for m in mail.outbox if tenant.staff.email in m.to]
    assert leaked == [], [m.body for m in leaked]


def test_an_extension_template_never_puts_the_requester_name_on_the_public_timeline(
    tenant, client_for
):
    r = file_request(tenant, name="Ann Resident", email="ann@example.org")
    assert r.visibility == Visibility.PUBLISHED
    with agency_context(tenant.agency):
        t = ResponseTemplate.objects.create(
            agency=tenant.agency,
            kind=TemplateKind.EXTENSION,
            name="Std",
            body="Dear {requester_name}, we need more time",
        )
    staff = client_for(tenant.publisher, tenant.host)
    page = staff.get(reverse("staff:request_detail", args=[r.number]) + f"?template={t.pk}")
    assert "Dear requester, we need more time" in page.content.decode()
    assert "Ann Resident" not in page.content.decode().split("Extend")[-1]
    staff.post(
        reverse("staff:request_extend", args=[r.number]),
        {"extend-days": "5", "extend-reason": "Dear requester, we need more time"},
    )
    public = client_for(None, tenant.host).get(reverse("request_detail", args=[r.number]))
    assert "Ann Resident" not in public.content.decode()


def test_a_requester_reply_on_a_restricted_request_reaches_only_staff_who_can_see_it(
    tenant, client_for, django_capture_on_commit_callbacks
):
    dept = department(tenant)
    add_to_department(tenant, tenant.staff, dept)
    r = file_request(
        tenant, requester=tenant.requester, department=dept, visibility=Visibility.RESTRICTED
    )
    assert reload(tenant, r).point_of_contact_id is None
    assert (
        client_for(tenant.staff, tenant.host)
        .get(reverse("staff:request_detail", args=[r.number]))
        .status_code
        == 404
    )
    with django_capture_on_commit_callbacks(execute=True):
        client_for(tenant.requester, tenant.host).post(
            reverse("request_reply", args=[r.number]), {"body": "my medical details"}
        )
    leaked = [m for m in mail.outbox if tenant.staff.email in m.to]
    assert leaked == [], [m.body for m in leaked]
