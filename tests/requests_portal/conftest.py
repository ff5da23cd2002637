"""Fixtures of the requests tests. Not autouse: the pure tests here (deadlines) need no
database; a module that works with agencies asks for them with
``pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits")``."""

import pytest
from django.core.cache import cache

from accounts.tenancy import agency_context
from requests_portal.services import agency_settings


@pytest.fixture
def agency_defaults(tenant, other_tenant):
    """Deadline settings, closure reasons and holidays for both agencies."""
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            agency_settings.agency_setup_defaults(agency=each.agency, state="CA")


@pytest.fixture
def fresh_rate_limits():
    """The submission rate limits count in the cache; no test inherits another's count."""
    cache.clear()
    yield
    cache.clear()
