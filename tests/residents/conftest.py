"""Fixtures of the residents' own-data tests: both agencies set up to take requests, and the
document stores in this test's own folders."""

import pytest

from accounts.tenancy import agency_context
from documents import keys
from requests_portal.services import agency_settings
from vault import storage


@pytest.fixture(autouse=True)
def agency_defaults(tenant, other_tenant):
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            agency_settings.agency_setup_defaults(agency=each.agency, state="CA")


@pytest.fixture(autouse=True)
def isolated_stores(settings, tmp_path):
    settings.DOCUMENTS_LOCAL_ROOT = tmp_path / "documents"
    settings.KEYSTORE_LOCAL_ROOT = tmp_path / "keystore"
    settings.DOCUMENTS_S3_BUCKET = ""
    settings.KEYSTORE_S3_BUCKET = ""
    storage.reset_cache()
    keys.forget_cached_keys()
    yield
    storage.reset_cache()
    keys.forget_cached_keys()
