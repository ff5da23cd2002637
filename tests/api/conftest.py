"""Fixtures of the API tests: both agencies set up as the web's tests set them up."""

import pytest
from django.core.cache import cache

from accounts.tenancy import agency_context
from requests_portal.services import agency_settings


@pytest.fixture
def agencies(tenant, other_tenant):
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            agency_settings.agency_setup_defaults(agency=each.agency, state="CA")
    cache.clear()
    yield tenant, other_tenant
    cache.clear()
