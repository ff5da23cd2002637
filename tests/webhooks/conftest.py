"""Fixtures of the webhooks tests: both agencies' defaults (so requests can be filed,
closed and billed) and a local receiver speaking plain HTTP on 127.0.0.1."""

import pytest

from accounts.tenancy import agency_context
from requests_portal.services import agency_settings
from tests.webhooks.receiver import Receiver


@pytest.fixture
def agency_defaults(tenant, other_tenant):
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            agency_settings.agency_setup_defaults(agency=each.agency, state="CA")


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running
