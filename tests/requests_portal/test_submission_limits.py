"""The public request form's limits: generous per address (a library or a shared network is
one address for many residents), tight per email, and a refusal that says how else to reach
the agency."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Agency
from tests.requests_portal.helpers import body_of, form_data, requests_of, set_request_settings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]

REFUSAL = "You have sent several requests in a short time."


def _count_per_hour(rate: str) -> int:
    count, period = rate.split("/")
    assert period == "h", f"expected an hourly limit, got {rate}"
    return int(count)


def test_the_default_per_address_limit_lets_a_shared_network_file_dozens_an_hour(
    tenant, client_for
):
    limit = _count_per_hour(settings.REQUEST_SUBMIT_RATE_PER_IP)
    assert limit >= 30
    client = client_for(None, tenant.host)

    for n in range(limit):
        filed = client.post(reverse("request_new"), form_data(email=f"patron{n}@library.test"))
        assert filed.status_code == 302, f"submission {n + 1} of {limit} was refused"

    refused = client.post(reverse("request_new"), form_data(email="one.more@library.test"))

    assert refused.status_code == 429
    assert REFUSAL in body_of(refused)
    assert len(requests_of(tenant)) == limit


def test_the_default_per_email_limit_still_stops_one_address_flooding_from_anywhere(
    tenant, client_for
):
    limit = _count_per_hour(settings.REQUEST_SUBMIT_RATE_PER_EMAIL)
    assert limit <= 10
    client = client_for(None, tenant.host)

    for n in range(limit):
        # A different network each time: only the email ties them together.
        filed = client.post(reverse("request_new"), form_data(), REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert filed.status_code == 302

    refused = client.post(reverse("request_new"), form_data(), REMOTE_ADDR="203.0.113.9")

    assert refused.status_code == 429
    assert REFUSAL in body_of(refused)
    assert len(requests_of(tenant)) == limit


def test_guests_without_an_email_count_against_the_address_only(tenant, client_for, settings):
    settings.REQUEST_SUBMIT_RATE_PER_EMAIL = "1/h"
    set_request_settings(tenant, allow_anonymous=True)
    client = client_for(None, tenant.host)

    for _ in range(3):
        assert client.post(reverse("request_new"), form_data(email="")).status_code == 302

    assert len(requests_of(tenant)) == 3


def test_the_refusal_names_the_agency_phone_and_email(tenant, client_for, settings):
    settings.REQUEST_SUBMIT_RATE_PER_EMAIL = "1/h"
    Agency.objects.filter(pk=tenant.agency.pk).update(
        contact_phone="312-555-0100", contact_email="records@alpha.example.gov"
    )
    client = client_for(None, tenant.host)
    client.post(reverse("request_new"), form_data())

    refused = client.post(reverse("request_new"), form_data())

    assert refused.status_code == 429
    summary = re.search(r'<div class="error-summary".*?</div>', body_of(refused), re.S).group()
    assert REFUSAL in summary
    assert (
        "You can also contact Alpha Test Agency by phone at 312-555-0100 or by email at "
        "records@alpha.example.gov." in summary
    )


def test_the_refusal_without_published_details_promises_no_phone(tenant, client_for, settings):
    settings.REQUEST_SUBMIT_RATE_PER_EMAIL = "1/h"
    client = client_for(None, tenant.host)
    client.post(reverse("request_new"), form_data())

    refused = client.post(reverse("request_new"), form_data())

    summary = re.search(r'<div class="error-summary".*?</div>', body_of(refused), re.S).group()
    assert "Please wait an hour and try again." in summary
    assert "by phone" not in summary
    assert "contact" not in summary
