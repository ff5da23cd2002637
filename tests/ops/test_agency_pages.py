"""The platform operators' agency pages (issue 13, data sovereignty): the list with each
agency's storage location, creating an agency in a location (audited on the platform's chain,
sent twice creates one), its page; nobody else reaches them, and never on an agency's host."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Agency
from accounts.services.agencies import agency_create, agency_storage_location_change
from accounts.services.errors import ServiceError, ServiceFieldError
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.form_helpers import form_values, token_of
from vault import storage

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return UserFactory(email="olive@platform.test", full_name="Olive Operator", is_staff=True)


@pytest.fixture
def two_locations(settings):
    settings.STORAGE_LOCATIONS = {
        "default": {"label": "Oregon (us-west-2)"},
        "eu": {"label": "Frankfurt (eu-central-1)"},
    }
    storage.reset_cache()
    yield
    storage.reset_cache()


def _created_events() -> list[AuditEvent]:
    with agency_context(None, platform=True):
        return list(AuditEvent.objects.filter(agency=None, action="agency.created"))


def _new_values(client, **changes) -> dict:
    page = client.get(reverse("ops_agencies:new"))
    assert page.status_code == 200
    values = form_values(page, reverse("ops_agencies:new"))
    values.update(
        {"slug": "riverton", "name": "City of Riverton", "time_zone": "America/Denver"},
        **changes,
    )
    return values


def test_an_operator_creates_an_agency_in_a_location_and_it_is_audited(
    client_for, operator, settings, two_locations
):
    client = client_for(operator, settings.PORTAL_BASE_DOMAIN)
    page = client.get(reverse("ops_agencies:new"))
    body = page.content.decode()
    assert "Frankfurt (eu-central-1)" in body and "Oregon (us-west-2)" in body
    assert '<label for="id_storage_location"' in body
    answer = client.post(reverse("ops_agencies:new"), _new_values(client, storage_location="eu"))
    agency = Agency.objects.get(slug="riverton")
    assert answer.status_code == 302
    assert answer["Location"] == reverse("ops_agencies:detail", kwargs={"agency_id": agency.pk})
    assert (agency.name, agency.time_zone, agency.storage_location) == (
        "City of Riverton",
        "America/Denver",
        "eu",
    )
    (event,) = _created_events()
    assert event.actor_id == operator.pk
    assert event.target_id == str(agency.pk)
    assert event.details["storage_location"] == "eu"
    assert event.details["location_label"] == "Frankfurt (eu-central-1)"

    detail = client.get(answer["Location"]).content.decode()
    assert "Frankfurt (eu-central-1)" in detail and "riverton" in detail
    listed = client.get(reverse("ops_agencies:list")).content.decode()
    assert "riverton" in listed and "Frankfurt (eu-central-1)" in listed
    # No page edits the location: the detail page has no form that posts.
    assert '<form method="post"' not in detail.split("<main", 1)[-1].split("</main>", 1)[0]


def test_the_form_refuses_an_unknown_location_a_taken_slug_and_a_bad_one(
    client_for, operator, settings, two_locations, tenant
):
    client = client_for(operator, settings.PORTAL_BASE_DOMAIN)
    unknown = client.post(reverse("ops_agencies:new"), _new_values(client, storage_location="mars"))
    assert unknown.status_code == 200
    assert "Select a valid choice" in unknown.content.decode()
    taken = client.post(reverse("ops_agencies:new"), _new_values(client, slug=tenant.agency.slug))
    assert "An agency already has this address." in taken.content.decode()
    bad = client.post(reverse("ops_agencies:new"), _new_values(client, slug="-Bad_Slug"))
    assert "lower-case letters, digits and hyphens" in bad.content.decode()
    assert not Agency.objects.filter(slug__in=["riverton", "-bad_slug"]).exists()
    assert _created_events() == []


def test_the_service_refuses_unknown_locations_and_non_operators(operator, two_locations, tenant):
    with pytest.raises(ServiceFieldError) as refused:
        agency_create(
            operator=operator,
            slug="nowhere",
            name="Nowhere",
            time_zone="UTC",
            storage_location="mars",
        )
    assert refused.value.field == "storage_location"
    with pytest.raises(ServiceError, match="Only platform operators"):
        agency_create(
            operator=tenant.admin,
            slug="nowhere",
            name="Nowhere",
            time_zone="UTC",
            storage_location="eu",
        )
    assert not Agency.objects.filter(slug="nowhere").exists()
    # A location may be corrected while the agency has stored nothing (audited), not after
    # (tests/documents/test_sovereignty.py stores something first).
    agency = agency_create(
        operator=operator, slug="fresh", name="Fresh", time_zone="UTC", storage_location="eu"
    )
    agency = agency_storage_location_change(
        operator=operator, agency=agency, storage_location="default"
    )
    assert agency.storage_location == "default"
    with agency_context(None, platform=True):
        moved = AuditEvent.objects.get(action="agency.storage_location_changed")
    assert moved.details == {"slug": "fresh", "from": "eu", "to": "default"}


def test_create_sent_twice_creates_one_agency(client_for, operator, settings, two_locations):
    """The one-time form token (tests/test_once_forms.py lists this test in OWN_TESTS)."""
    client = client_for(operator, settings.PORTAL_BASE_DOMAIN)
    client.handler.enforce_csrf_checks = True
    values = _new_values(client)
    token_of(values)
    first = client.post(reverse("ops_agencies:new"), values)
    again = client.post(reverse("ops_agencies:new"), values)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Agency.objects.filter(slug="riverton").count() == 1
    assert len(_created_events()) == 1


def test_nobody_else_reaches_the_pages(client, client_for, tenant, operator, settings):
    base = settings.PORTAL_BASE_DOMAIN
    urls = [
        reverse("ops_agencies:list"),
        reverse("ops_agencies:new"),
        reverse("ops_agencies:detail", kwargs={"agency_id": tenant.agency.pk}),
    ]
    for url in urls:
        anonymous = client.get(url, HTTP_HOST=base)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        for person in (tenant.admin, tenant.staff, tenant.requester):
            assert client_for(person, base).get(url).status_code == 404
            assert client_for(person, tenant.host).get(url).status_code == 404
        # The platform's pages only: 404 on an agency's host, for operators and anonymous.
        assert client_for(operator, tenant.host).get(url).status_code == 404
        assert client.get(url, HTTP_HOST=tenant.host).status_code == 404
        assert client_for(operator, base).get(url).status_code == 200
    posted = client_for(tenant.admin, base).post(reverse("ops_agencies:new"), {"slug": "x"})
    assert posted.status_code == 404
    missing = reverse("ops_agencies:detail", kwargs={"agency_id": tenant.agency.pk + 10_000})
    assert client_for(operator, base).get(missing).status_code == 404
    unverified = client_for(operator, base, second_factor=False).get(urls[0])
    assert unverified.status_code == 302 and "two-factor" in unverified["Location"]
