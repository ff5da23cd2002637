"""Each web process remembers which agency a host names for a few seconds
(accounts/host_cache.py): no agency query per page, any change through the ORM applies at
once, a change made elsewhere (another process: here raw SQL, which no signal sees) within
the cache's limit, and no request shares its agency object with another."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import host_cache
from accounts.models import Agency
from accounts.tenancy import resolve_host

pytestmark = pytest.mark.django_db


def _agency_queries(host: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        resolve_host(host)
    return sum('"accounts_agency"' in q["sql"] for q in captured.captured_queries)


def _rename_elsewhere(agency: Agency, name: str) -> None:
    # As another web process would: the row changes, this process hears nothing.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_agency SET name = %s WHERE id = %s", [name, agency.pk])


def test_a_known_host_costs_no_query(tenant):
    assert _agency_queries(tenant.host) == 1
    assert _agency_queries(tenant.host) == 0
    assert resolve_host(tenant.host) == tenant.agency


def test_each_lookup_hands_out_its_own_copy(tenant):
    first = resolve_host(tenant.host)
    first.name = "Changed by one request only"
    second = resolve_host(tenant.host)
    assert second is not first
    assert second.name == tenant.agency.name


def test_a_save_applies_at_once(tenant, client_for):
    client = client_for(None, tenant.host)
    client.get("/")
    agency = Agency.objects.get(pk=tenant.agency.pk)
    agency.name = "Renamed Through Save"
    agency.save()
    assert "Renamed Through Save" in client.get("/").content.decode()


def test_a_bulk_deactivation_applies_at_once(tenant, client_for):
    client = client_for(None, tenant.host)
    assert client.get("/").status_code == 200
    Agency.objects.filter(pk=tenant.agency.pk).update(is_active=False)
    assert client.get("/").status_code == 404


def test_a_new_agency_is_found_at_once_though_its_host_was_unknown(tenant):
    assert resolve_host("charlie.localhost") is None
    created = Agency.objects.create(slug="charlie", name="Charlie")
    assert resolve_host("charlie.localhost") == created


def test_a_change_made_elsewhere_shows_once_the_entry_is_older_than_the_limit(tenant, settings):
    settings.AGENCY_HOST_CACHE_SECONDS = 60
    resolve_host(tenant.host)
    _rename_elsewhere(tenant.agency, "Renamed Elsewhere")
    assert resolve_host(tenant.host).name == tenant.agency.name  # still remembered

    settings.AGENCY_HOST_CACHE_SECONDS = 0  # every entry is now past the limit
    assert resolve_host(tenant.host).name == "Renamed Elsewhere"


def test_a_read_begun_before_a_change_does_not_store_the_old_row(tenant):
    def load_then_change():
        row = Agency.objects.get(pk=tenant.agency.pk)
        host_cache.clear()  # a change lands while the old row is in hand
        return row

    host_cache.lookup(tenant.host, load_then_change)
    assert _agency_queries(tenant.host) == 1  # the old row was not kept


def test_two_hosts_keep_their_own_agencies(tenant, other_tenant):
    assert resolve_host(tenant.host) == tenant.agency
    assert resolve_host(other_tenant.host) == other_tenant.agency
    assert resolve_host(tenant.host) == tenant.agency
    assert resolve_host(other_tenant.host) == other_tenant.agency
