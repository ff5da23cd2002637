"""The agency admin's reply mailbox page (/staff/settings/mailbox/): setting up the agency's
own IMAP server through the browser, the password sealed and never shown again, bad input a
field error with nothing saved, a server on a private or internal address refused (SSRF),
every change audited; staff without the permission 403, another agency's people 404."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from mailin import tasks
from mailin.models import Mailbox
from tests.form_helpers import form_values
from vault.keyring import open_sealed

pytestmark = pytest.mark.django_db

PAGE = "/staff/settings/mailbox/"


def _post(client, data: dict):
    page = client.get(PAGE)
    assert page.status_code == 200
    values = form_values(page, PAGE)
    values.update(data)
    return client.post(PAGE, values)


def _mailbox(tenant) -> Mailbox | None:
    with agency_context(tenant.agency):
        return Mailbox.objects.filter(agency=tenant.agency).first()


GOOD = {
    "host": "localhost",
    "security": "tls",
    "port": "993",
    "username": "records",
    "password": "imap passphrase 2026",
    "folder": "INBOX",
    "enabled": "on",
}


def test_an_admin_sets_up_the_mailbox_and_its_password_is_sealed_and_never_shown(
    tenant, client_for
):
    client = client_for(tenant.admin, tenant.host)
    saved = _post(client, GOOD)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    mailbox = _mailbox(tenant)
    assert mailbox is not None and (mailbox.host, mailbox.port) == ("localhost", 993)
    sealed = bytes(mailbox.sealed_password)
    assert b"imap passphrase" not in sealed
    assert open_sealed(sealed, aad=mailbox.password_aad()) == b"imap passphrase 2026"
    with connection.cursor() as cursor:  # nowhere in the row as text either
        cursor.execute("SELECT row_to_json(m)::text FROM mailin_mailbox m")
        assert all("imap passphrase" not in row[0] for row in cursor.fetchall())
    page = client.get(PAGE)
    assert "imap passphrase" not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert form_values(page, PAGE)["host"] == "localhost"
    # Changing the folder with the password left empty keeps the stored password.
    again = _post(client, {**GOOD, "password": "", "folder": "Replies"})
    assert again.status_code == 302
    mailbox = _mailbox(tenant)
    assert mailbox.folder == "Replies"
    assert open_sealed(bytes(mailbox.sealed_password), aad=mailbox.password_aad()) == (
        b"imap passphrase 2026"
    )
    with agency_context(tenant.agency):
        changes = AuditEvent.objects.filter(
            agency=tenant.agency, action="mail.mailbox_changed", actor=tenant.admin
        ).order_by("id")
        assert [e.details["password_changed"] for e in changes] == [True, False]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("port", "not a port", "Enter a whole number."),
        ("port", "70000", "less than or equal to 65535"),
        ("host", "imap.example.gov/inbox", "name only, such as"),
        ("host", "", "This field is required."),
        ("password", "", "This field is required."),  # a new mailbox needs one
        ("security", "plaintext", "Select a valid choice."),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(tenant, client_for, field, value, message):
    client = client_for(tenant.admin, tenant.host)
    response = _post(client, {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _mailbox(tenant) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "::1"])
def test_a_server_on_an_internal_address_is_refused_in_production(
    tenant, client_for, settings, host
):
    settings.MAILIN_ALLOW_LOOPBACK_SERVERS = False
    client = client_for(tenant.admin, tenant.host)
    response = _post(client, {**GOOD, "host": host})
    assert response.status_code == 400
    body = response.content.decode()
    assert "private or internal network address" in body or "name only, such as" in body
    assert _mailbox(tenant) is None


def test_a_mailbox_whose_name_now_leads_inside_is_not_connected_to(tenant, client_for, settings):
    # Saved while allowed (as development allows loopback), then read under production's rule:
    # the check runs again before every connection.
    client = client_for(tenant.admin, tenant.host)
    assert _post(client, GOOD).status_code == 302
    settings.MAILIN_ALLOW_LOOPBACK_SERVERS = False
    result = tasks.poll_mailbox(agency_id=tenant.agency.pk)
    assert "private or internal network address" in result["error"]
    assert _mailbox(tenant).last_error == result["error"]


def test_who_may_see_the_page(tenant, other_tenant, client_for):
    assert client_for(tenant.staff, tenant.host).get(PAGE).status_code == 403
    assert client_for(other_tenant.admin, tenant.host).get(PAGE).status_code in (403, 404)
    anonymous = client_for(None, tenant.host).get(PAGE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(tenant.admin, tenant.host).get(PAGE).status_code == 200
    # The admin of another agency, on their own host, sees their own (empty) mailbox page.
    assert client_for(other_tenant.admin, other_tenant.host).get(PAGE).status_code == 200


def test_the_same_form_sent_twice_saves_once(tenant, client_for):
    client = client_for(tenant.admin, tenant.host)
    page = client.get(PAGE)
    values = {**form_values(page, PAGE), **GOOD}
    first = client.post(PAGE, values)
    second = client.post(PAGE, values)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == PAGE
    with agency_context(tenant.agency):
        assert (
            AuditEvent.objects.filter(agency=tenant.agency, action="mail.mailbox_changed").count()
            == 1
        )
