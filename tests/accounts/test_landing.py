"""Where a sign-in lands when no page was asked for: staff at their queue, residents home."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from tests.accounts.identity_helpers import sign_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_publisher_lands_on_the_request_queue(tenant):
    publisher = UserFactory()
    with agency_context(tenant.agency):
        MembershipFactory(agency=tenant.agency, user=publisher, role=Role.PUBLISHER)
    response = sign_in(Client(HTTP_HOST=tenant.host), publisher.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:request_queue")


def test_a_resident_lands_on_the_agency_home_page(tenant):
    response = sign_in(Client(HTTP_HOST=tenant.host), tenant.requester.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_page_asked_for_wins_over_the_queue(tenant):
    publisher = UserFactory()
    with agency_context(tenant.agency):
        MembershipFactory(agency=tenant.agency, user=publisher, role=Role.PUBLISHER)
    client = Client(HTTP_HOST=tenant.host)
    response = client.post(
        f"{reverse('accounts:login')}?next={reverse('staff:audit_log')}",
        {"username": publisher.email, "password": "correct-horse-battery-staple"},
    )
    assert response["Location"] == reverse("staff:audit_log")


def test_staff_of_another_agency_land_on_the_home_page_not_a_queue_they_cannot_open(
    tenant, other_tenant
):
    response = sign_in(Client(HTTP_HOST=tenant.host), other_tenant.staff.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
