"""A staff member's own email choices: saved through the service, with an audit event in
the same transaction (the page once saved its form directly, leaving no trace)."""

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal.models import NotificationPreference

pytestmark = pytest.mark.django_db

ALL_ON = {
    "new_requests": "on",
    "assignments": "on",
    "requester_messages": "on",
    "daily_digest": "on",
}


def _events(tenant) -> list[AuditEvent]:
    with agency_context(tenant.agency):
        return list(
            AuditEvent.objects.filter(
                agency=tenant.agency, action="notifications.preferences_changed"
            ).order_by("id")
        )


def _preferences(tenant, user) -> list[NotificationPreference]:
    with agency_context(tenant.agency):
        return list(NotificationPreference.objects.filter(agency=tenant.agency, user=user))


def test_changing_email_choices_saves_them_and_records_one_audit_event(tenant, client_for):
    client = client_for(tenant.staff, tenant.host)
    choices = {**ALL_ON}
    del choices["daily_digest"]  # an unticked box is not posted

    response = client.post(reverse("staff:notifications"), choices)

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:notifications")
    [saved] = _preferences(tenant, tenant.staff)
    assert (saved.new_requests, saved.daily_digest) == (True, False)
    [event] = _events(tenant)
    assert event.actor_id == tenant.staff.pk
    assert event.details == {"changed": {"daily_digest": [True, False]}}
    assert event.request_id  # written inside the web request, with its id


def test_saving_the_same_choices_again_writes_nothing(tenant, client_for):
    client = client_for(tenant.staff, tenant.host)

    response = client.post(reverse("staff:notifications"), ALL_ON)

    assert response.status_code == 302
    assert _preferences(tenant, tenant.staff) == []  # the defaults need no row
    assert _events(tenant) == []
