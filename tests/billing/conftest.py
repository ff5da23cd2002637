"""Fixtures of the billing tests: both agencies' deadline settings and defaults (so requests
can be filed, paused and resumed)."""

import pytest

from accounts.tenancy import agency_context
from requests_portal.services import agency_settings


@pytest.fixture
def agency_defaults(tenant, other_tenant):
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            agency_settings.agency_setup_defaults(agency=each.agency, state="CA")
