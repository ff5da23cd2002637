"""The staff request page's reads made once per page (requests_portal/staff_page_access.py)
and the action forms it builds only where the request's state shows them (issue 15)."""

from __future__ import annotations

import pytest

from accounts.models import Role, User
from accounts.tenancy import agency_context
from requests_portal import access, staff_page_access
from requests_portal.models import Visibility
from tests.factories import MembershipFactory, UserFactory
from tests.requests_portal.helpers import (
    add_to_department,
    body_of,
    department,
    file_request,
    reload,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize("routed", [True, False])
def test_colleagues_who_see_a_request_are_those_whose_own_queue_shows_it(
    visibility, routed, tenant
):
    clerk = department(tenant, "Clerk")
    with agency_context(tenant.agency):
        outside = UserFactory(email="outside@alpha.test")
        MembershipFactory(agency=tenant.agency, user=outside, role=Role.DEPARTMENT_ADMIN)
        contact = UserFactory(email="contact@alpha.test")
        MembershipFactory(agency=tenant.agency, user=contact, role=Role.STAFF)
    for member in (tenant.staff, tenant.department_admin, tenant.publisher):
        add_to_department(tenant, member, clerk)
    filed = file_request(
        tenant,
        visibility=visibility,
        department=clerk if routed else None,
        point_of_contact=contact,
    )

    with agency_context(tenant.agency):
        viewer = User.objects.get(pk=tenant.admin.pk)
        records_request = access.get_request_for_staff(viewer, tenant.agency, filed.number)
        decided = staff_page_access.colleagues_who_see(viewer, tenant.agency, records_request)
        everyone = access.assignable_staff_for_tasks(
            User.objects.get(pk=tenant.admin.pk), tenant.agency
        )
        # Each person's own queue, read afresh: the rule the shortcut must agree with.
        expected = [
            person
            for person in everyone
            if access.staff_requests_for(User.objects.get(pk=person.pk), tenant.agency)
            .filter(pk=filed.pk)
            .exists()
        ]

    assert [p.email for p in decided] == [p.email for p in expected]
    assert contact.email in [p.email for p in decided]  # the point of contact always sees it
    if visibility in (Visibility.DEPARTMENT, Visibility.RESTRICTED):
        assert outside.email not in [p.email for p in decided]


def test_a_closed_request_page_offers_reopen_and_no_clock_or_routing_forms(tenant, client_for):
    from requests_portal.services import lifecycle
    from tests.requests_portal.helpers import PLAIN_REASON, closure_reason

    filed = file_request(tenant)
    with agency_context(tenant.agency):
        lifecycle.request_close(
            records_request=reload(tenant, filed),
            actor=tenant.admin,
            reason=closure_reason(tenant, PLAIN_REASON),
            note="Done.",
        )

    response = client_for(tenant.admin, tenant.host).get(staff_url("detail", filed))

    body = body_of(response)
    assert response.status_code == 200
    assert set(response.context["forms"]) >= {"reopen", "message", "task", "tags", "time"}
    assert not set(response.context["forms"]) & {"route", "pause", "extend", "due", "close"}
    assert staff_url("reopen", filed) in body and staff_url("route", filed) not in body


# --- The queue's filter form, kept blank per agency and language -----------------------------


def test_queue_filter_form_kept_blank_shows_a_department_added_since(tenant, client_for):
    from django.urls import reverse

    department(tenant, "Clerk")
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:request_queue")
    assert "Harbour Master" not in body_of(client.get(url))  # the blank form, now kept

    department(tenant, "Harbour Master")

    body = body_of(client.get(url))
    assert "Clerk" in body and "Harbour Master" in body


def test_queue_filter_form_kept_for_one_agency_is_never_another_agencys(
    tenant, other_tenant, client_for
):
    from django.urls import reverse

    department(tenant, "Alpha Clerk")
    department(other_tenant, "Beta Harbour")
    url = reverse("staff:request_queue")

    alpha = body_of(client_for(tenant.admin, tenant.host).get(url))
    beta = body_of(client_for(other_tenant.admin, other_tenant.host).get(url))

    assert "Alpha Clerk" in alpha and "Beta Harbour" not in alpha
    assert "Beta Harbour" in beta and "Alpha Clerk" not in beta


def test_queue_filter_form_with_a_filter_shows_the_chosen_values(tenant, client_for):
    from django.urls import reverse

    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:request_queue")
    client.get(url)  # the blank form kept

    body = body_of(client.get(url, {"status": "paused", "q": "bridge"}))

    assert 'value="bridge"' in body
    assert '<option value="paused" selected>' in body


# --- The fixed action forms' blank fields, kept per agency and language ----------------------


def test_close_form_kept_blank_offers_a_closure_reason_added_or_withdrawn_since(tenant, client_for):
    from requests_portal.services import agency_settings

    filed = file_request(tenant)
    client = client_for(tenant.admin, tenant.host)
    url = staff_url("detail", filed)
    assert "Referred to the county" not in body_of(client.get(url))  # the close form, kept

    with agency_context(tenant.agency):
        added = agency_settings.closure_reason_add(
            agency=tenant.agency,
            actor=tenant.admin,
            name="Referred to the county",
            requires_citation=False,
        )
    assert "Referred to the county" in body_of(client.get(url))

    with agency_context(tenant.agency):
        agency_settings.closure_reason_set_active(reason=added, actor=tenant.admin, active=False)
    assert "Referred to the county" not in body_of(client.get(url))


def test_kept_close_form_is_the_form_rendered_afresh(tenant, client_for):
    from django.template.loader import render_to_string

    from requests_portal import forms

    filed = file_request(tenant)
    response = client_for(tenant.admin, tenant.host).get(staff_url("detail", filed))

    with agency_context(tenant.agency):
        fresh = forms.CloseForm(
            prefix="close", reasons=access.closure_reasons_for(tenant.admin, tenant.agency)
        )
        html = render_to_string("_fields.html", {"fields": list(fresh)})
    assert response.context["kept"]["close"] == html
    assert html in body_of(response)


def test_a_posted_form_with_errors_is_shown_with_them_not_the_kept_blank_one(tenant, client_for):
    filed = file_request(tenant)
    client = client_for(tenant.admin, tenant.host)
    client.get(staff_url("detail", filed))  # the blank pause form kept

    response = client.post(staff_url("pause", filed), {"pause-reason": ""})

    assert response.status_code == 400
    assert "pause" not in response.context["kept"]
    assert 'id="id_pause-reason_error"' in body_of(response)


@pytest.mark.parametrize(
    "query",
    [
        {"since": "x"},
        {"department": "abc"},
        {"status": "nonsense"},
        {"sort": "drop table"},
        {"page": "zz"},
        {"page": "999999"},
        {"q": "\x00"},
    ],
)
def test_queue_with_a_malformed_filter_answers_the_form_with_its_error(query, tenant, client_for):
    from django.urls import reverse

    filed = file_request(tenant)
    client = client_for(tenant.admin, tenant.host)
    client.get(reverse("staff:request_queue"))  # the blank form kept: never shown for these

    response = client.get(reverse("staff:request_queue"), query)

    assert response.status_code == 200, query
    body = body_of(response)
    if "page" in query:
        assert filed.number in body  # a page out of range shows the nearest one
    else:
        assert 'aria-invalid="true"' in body, query  # the field is marked, not the kept form
