"""Who sees a request: restricted and department requests among staff, the public archive
and embargoes, and outsiders from another agency (404 everywhere).
"""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import agency_context
from requests_portal.models import (
    ClosureReason,
    RecordsRequest,
    Visibility,
)
from requests_portal.services import lifecycle
from tests.requests_portal.helpers import (
    PLAIN_REASON,
    add_to_department,
    body_of,
    department,
    file_request,
    public_url,
    reload,
    request_audit_events,
    set_request_settings,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


# --- Visibility --------------------------------------------------------------------------------


def test_restricted_request_is_hidden_from_staff_who_are_not_its_point_of_contact(
    tenant, client_for
):
    filed = file_request(tenant, visibility=Visibility.RESTRICTED, title="Internal affairs file")
    url = staff_url("detail", filed)

    assert client_for(tenant.staff, tenant.host).get(url).status_code == 404
    assert client_for(tenant.publisher, tenant.host).get(url).status_code == 404
    assert client_for(tenant.admin, tenant.host).get(url).status_code == 200
    queue = body_of(client_for(tenant.staff, tenant.host).get(reverse("staff:request_queue")))
    assert "Internal affairs file" not in queue


def test_restricted_request_is_visible_to_its_point_of_contact(tenant, client_for):
    filed = file_request(tenant, visibility=Visibility.RESTRICTED, point_of_contact=tenant.staff)
    response = client_for(tenant.staff, tenant.host).get(staff_url("detail", filed))
    assert response.status_code == 200


def test_department_request_is_visible_to_its_department_members_and_admins_only(
    tenant, client_for
):
    clerk = department(tenant)
    police = department(tenant, "Police")
    add_to_department(tenant, tenant.staff, clerk)
    add_to_department(tenant, tenant.publisher, police)
    add_to_department(tenant, tenant.department_admin, police)
    filed = file_request(tenant, visibility=Visibility.DEPARTMENT, department=clerk)
    url = staff_url("detail", filed)

    assert client_for(tenant.staff, tenant.host).get(url).status_code == 200
    assert client_for(tenant.admin, tenant.host).get(url).status_code == 200
    assert client_for(tenant.publisher, tenant.host).get(url).status_code == 404
    assert client_for(tenant.department_admin, tenant.host).get(url).status_code == 404


def test_public_archive_lists_only_published_requests_without_requester_identity(
    tenant, client_for
):
    published = file_request(
        tenant,
        title="Published: street tree inventory",
        name="Zelda Quux",
        email="zelda.quux@example.org",
    )
    hidden_titles = []
    for visibility in (
        Visibility.EMBARGOED,
        Visibility.ALL_STAFF,
        Visibility.DEPARTMENT,
        Visibility.RESTRICTED,
    ):
        title = f"Hidden: {visibility} request"
        file_request(tenant, title=title, visibility=visibility)
        hidden_titles.append(title)
    client = client_for(None, tenant.host)

    archive = body_of(client.get(reverse("archive")))
    detail = body_of(client.get(public_url(published)))

    assert "Published: street tree inventory" in archive
    assert not [t for t in hidden_titles if t in archive]
    assert "1 request." in archive
    for page in (archive, detail):
        assert "Zelda" not in page
        assert "Quux" not in page
        assert "zelda.quux@example.org" not in page


@pytest.mark.clock
def test_embargoed_closed_request_becomes_public_only_after_its_public_from(tenant, client_for):
    set_request_settings(tenant, embargo_days=5)
    filed = file_request(tenant, title="Embargoed audit report", visibility=Visibility.EMBARGOED)
    client = client_for(None, tenant.host)
    assert client.get(public_url(filed)).status_code == 404  # open: not public

    with agency_context(tenant.agency):
        lifecycle.request_close(
            records_request=RecordsRequest.objects.get(pk=filed.pk),
            actor=tenant.publisher,
            reason=ClosureReason.objects.get(agency=tenant.agency, name=PLAIN_REASON),
        )
    public_from = reload(tenant, filed).public_from
    assert public_from > timezone.now() + datetime.timedelta(days=4)

    assert client.get(public_url(filed)).status_code == 404
    assert "Embargoed audit report" not in body_of(client.get(reverse("archive")))
    just_after = public_from + datetime.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=just_after):
        assert client.get(public_url(filed)).status_code == 200
        assert "Embargoed audit report" in body_of(client.get(reverse("archive")))


# --- Outsiders -----------------------------------------------------------------------------

STAFF_REQUEST_URLS = [
    ("detail", "get"),
    ("acknowledge", "post"),
    ("message", "post"),
    ("route", "post"),
    ("pause", "post"),
    ("resume", "post"),
    ("extend", "post"),
    ("due_date", "post"),
    ("close", "post"),
    ("reopen", "post"),
    ("visibility", "post"),
]


@pytest.fixture
def a_second_request_b_lacks(tenant, other_tenant):
    """Agency A has requests YY-1 and YY-2; agency B only YY-1. A's YY-2 exists nowhere in B."""
    file_request(tenant, title="Alpha first")
    second = file_request(tenant, title="Alpha second: harbour dredging")
    file_request(other_tenant, title="Bravo first")
    assert second.sequence == 2
    return second


@pytest.mark.parametrize("host_of", ["agency_a", "agency_b"])
@pytest.mark.parametrize(("action", "method"), STAFF_REQUEST_URLS)
def test_other_agency_admin_gets_404_for_the_request_on_every_staff_url(
    action, method, host_of, tenant, other_tenant, outsider, a_second_request_b_lacks, client_for
):
    filed = a_second_request_b_lacks
    host = tenant.host if host_of == "agency_a" else other_tenant.host
    client = client_for(outsider, host)
    data = {
        "kind": "internal",
        "body": "x",
        "pause-reason": "x",
        "reopen-reason": "x",
        "extend-days": "5",
        "extend-reason": "x",
        "visibility-visibility": "restricted",
    }

    response = getattr(client, method)(staff_url(action, filed), data)

    assert response.status_code == 404
    assert "Page not found" in body_of(response)
    assert "harbour dredging" not in body_of(response)
    after = reload(tenant, filed)
    assert (after.status, after.visibility, after.due_date) == (
        filed.status,
        filed.visibility,
        filed.due_date,
    )
    assert [e.action for e in request_audit_events(tenant, filed)] == ["request.submitted"]


def test_public_request_number_of_another_agency_answers_404_on_this_host(
    tenant, other_tenant, a_second_request_b_lacks, client_for
):
    filed = a_second_request_b_lacks
    assert client_for(None, tenant.host).get(public_url(filed)).status_code == 200

    response = client_for(None, other_tenant.host).get(public_url(filed))

    assert response.status_code == 404
    assert "harbour dredging" not in body_of(response)


def test_other_agency_requests_are_not_in_the_staff_queue(
    tenant, other_tenant, a_second_request_b_lacks, client_for
):
    body = body_of(
        client_for(other_tenant.admin, other_tenant.host).get(reverse("staff:request_queue"))
    )
    assert "Bravo first" in body
    assert "Alpha second" not in body
    assert "Alpha first" not in body
