"""A person corrects their own name and phone number on their profile page (the email
address has its own confirmed flow); each change is audited, bad input is a field error."""

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(agency, action):
    with agency_context(agency):
        return list(AuditEvent.objects.filter(action=action))


def test_a_resident_corrects_their_phone_number_and_it_is_audited(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    page = client.get(reverse("accounts:profile"))
    assert "Phone number" in page.content.decode()
    response = client.post(
        reverse("accounts:profile"), {"form": "phone", "phone": "(312) 555-0100"}
    )
    assert response.status_code == 302
    tenant.requester.refresh_from_db()
    assert tenant.requester.phone == "(312) 555-0100"
    events = _events(tenant.agency, "account.phone_changed")
    assert len(events) == 1
    assert "555" not in str(events[0].details)


def test_a_malformed_phone_number_is_a_field_error_and_changes_nothing(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    response = client.post(reverse("accounts:profile"), {"form": "phone", "phone": "call me"})
    assert response.status_code == 200
    assert "7 to 15 digits" in response.content.decode()
    tenant.requester.refresh_from_db()
    assert tenant.requester.phone == ""


def test_a_resident_corrects_their_name(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    client.post(reverse("accounts:profile"), {"form": "name", "full_name": "Ana Ruiz"})
    tenant.requester.refresh_from_db()
    assert tenant.requester.full_name == "Ana Ruiz"
    assert _events(tenant.agency, "account.name_changed")


def test_the_profile_page_offers_the_confirmed_email_change(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert reverse("accounts:email_change") in page
