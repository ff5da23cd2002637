"""A resident deletes their account: confirmed with their password; the account is emptied
and deactivated, sessions end, and their requests stay (public ones published) without them."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Membership
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal import access as request_access
from residents.models import DataExport
from tests.requests_portal.helpers import file_request, public_url, reload

pytestmark = pytest.mark.django_db

PASSWORD = "a long and private phrase 42"


@pytest.fixture
def resident(tenant):
    user = tenant.requester
    user.full_name = "Ana Ruiz"
    user.phone = "(312) 555-0100"
    user.set_password(PASSWORD)
    user.save()
    return user


def test_deletion_needs_the_password_and_the_confirmation(tenant, resident, client_for):
    client = client_for(resident, tenant.host)
    url = reverse("residents:account_delete")
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"password": "not it", "confirm": "on"})
    assert wrong.status_code == 200
    assert "not your password" in wrong.content.decode()
    unconfirmed = client.post(url, {"password": PASSWORD})
    assert unconfirmed.status_code == 200
    resident.refresh_from_db()
    assert resident.is_active and resident.full_name == "Ana Ruiz"


def test_deletion_keeps_public_requests_published_without_the_requester(
    tenant, other_tenant, resident, client_for
):
    public = file_request(
        tenant, requester=resident, name="Ana Ruiz", email=resident.email, visibility="published"
    )
    elsewhere = file_request(other_tenant, requester=resident, email=resident.email)
    with agency_context(tenant.agency):
        type(public).objects.filter(pk=public.pk).update(
            requester_phone="312 555 0100", requester_address="1 Main St"
        )
    stranger = file_request(tenant, requester=other_tenant.requester, name="Bo Li")
    DataExport.objects.create(user=resident)
    client = client_for(resident, tenant.host)
    old_email = resident.email
    response = client.post(
        reverse("residents:account_delete"), {"password": PASSWORD, "confirm": "on"}
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert not resident.is_active
    assert resident.full_name == "" and resident.phone == ""
    assert resident.email != old_email and resident.email.endswith("@deleted.invalid")
    assert not resident.has_usable_password()
    assert not DataExport.objects.filter(user=resident).exists()
    for each, records_request in ((tenant, public), (other_tenant, elsewhere)):
        kept = reload(each, records_request)
        assert kept.requester_id is None
        assert (kept.requester_name, kept.requester_email, kept.requester_phone) == ("", "", "")
        assert kept.requester_address == ""
    with agency_context(tenant.agency):
        assert request_access.public_requests(tenant.agency).filter(pk=public.pk).exists()
    assert reload(tenant, stranger).requester_name == "Bo Li"
    # The session ended: the account pages ask to sign in again.
    assert client.get(reverse("accounts:profile")).status_code == 302
    # Audited: on the platform chain and on each agency's.
    with agency_context(None, platform=True):
        assert AuditEvent.objects.filter(
            agency__isnull=True, action="own_data.account_deleted", actor=resident
        ).exists()
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            event = AuditEvent.objects.get(action="own_data.requester_removed")
            assert event.details == {"requests": 1}
    # Nobody can sign in with the old address.
    assert not get_user_model().objects.filter(email__iexact=old_email).exists()


def test_the_public_page_of_a_kept_request_names_nobody(tenant, resident, client_for):
    public = file_request(
        tenant, requester=resident, name="Ana Ruiz", email=resident.email, visibility="published"
    )
    client_for(resident, tenant.host).post(
        reverse("residents:account_delete"), {"password": PASSWORD, "confirm": "on"}
    )
    page = client_for(None, tenant.host).get(public_url(public))
    assert page.status_code == 200
    assert "Ana Ruiz" not in page.content.decode()


def test_staff_cannot_delete_their_account_here(tenant, client_for):
    client = client_for(tenant.staff, tenant.host)
    page = client.get(reverse("residents:account_delete"))
    assert "administrators" in page.content.decode()
    client.post(reverse("residents:account_delete"), {"confirm": "on"})
    tenant.staff.refresh_from_db()
    assert tenant.staff.is_active
    with agency_context(tenant.agency):
        assert Membership.objects.filter(user=tenant.staff, is_active=True).exists()
