"""Fixtures of the reply-by-email tests: the reply domain and webhook key set, a request
whose requester has an account, and (for the mailbox tests) a real Dovecot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.tenancy import agency_context
from documents.models import DocumentSettings
from tests.idp._process import ServerStartError, ServiceUnavailable
from tests.idp.fixtures import service_unavailable
from tests.mailin.dovecot_server import DovecotServer, start_dovecot
from tests.mailin.helpers import REPLY_DOMAIN, SIGNING_KEY, file_request


@pytest.fixture(autouse=True)
def reply_settings(settings):
    settings.REPLY_DOMAIN = REPLY_DOMAIN
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def records_request(tenant):
    """A request of agency A filed by a guest with an email address (an account without a
    password is made for them)."""
    return file_request(tenant)


@pytest.fixture
def requester_uploads(tenant):
    with agency_context(tenant.agency):
        DocumentSettings.objects.update_or_create(
            agency=tenant.agency, defaults={"requester_uploads": True}
        )


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    server = problem = None
    try:
        server = start_dovecot()
    except (ServiceUnavailable, ServerStartError) as error:
        problem = error
    if server is None:
        service_unavailable(f"Dovecot (IMAP) cannot run: {problem}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox_server(dovecot, settings) -> Iterator[DovecotServer]:
    """The session's Dovecot, trusted through its test CA, emptied after the test."""
    settings.MAILIN_IMAP_CA_FILE = str(dovecot.ca_file)
    yield dovecot
    dovecot.empty()
