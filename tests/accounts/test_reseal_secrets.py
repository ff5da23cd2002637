"""Master-key rotation reaches every sealed column: ``reseal_secrets`` re-seals the ones the
apps declare (vault.sealed_fields: webhook signing secrets, mailbox passwords, Stripe keys,
data export keys) besides SSO and two-factor secrets, so the old key can be dropped without
breaking a webhook, a mailbox poll, a payment or a download. A model with a sealed column
that nobody declared fails here."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from accounts.models import IdentityProvider, TOTPSecret
from accounts.tenancy import agency_context
from billing.models import StripeAccount
from mailin.models import Mailbox
from residents.models import DataExport, ExportStatus
from residents.services.exports import export_key_aad
from vault import keyring
from vault.sealed_fields import sealed_fields
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

# Re-sealed by the command's own code (each with its own way of writing the value).
HANDLED_BY_THE_COMMAND = {(IdentityProvider, "sealed_secret"), (TOTPSecret, "sealed")}


def test_every_sealed_column_of_every_model_is_declared_for_resealing():
    declared = {(f.model, f.field) for f in sealed_fields()}
    found = {
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.BinaryField) and field.name.startswith("sealed")
    }
    assert found - declared - HANDLED_BY_THE_COMMAND == set()
    assert {(WebhookEndpoint, "sealed_secret"), (Mailbox, "sealed_password")} <= declared
    assert {(StripeAccount, "sealed_api_key"), (DataExport, "sealed_key")} <= declared


def _sealed_rows(tenant):
    """One row of each declared column, sealed with today's first key; (row, field, aad,
    plaintext) each."""
    with agency_context(tenant.agency):
        endpoint = WebhookEndpoint.objects.create(
            agency=tenant.agency, url="https://records.example.org/hook", sealed_secret=b""
        )
        endpoint.sealed_secret = keyring.seal(b"whsec-endpoint", aad=endpoint.secret_aad())
        endpoint.save()
        mailbox = Mailbox(
            agency=tenant.agency, host="mail.example.org", username="records", sealed_password=b""
        )
        mailbox.sealed_password = keyring.seal(b"imap-password", aad=mailbox.password_aad())
        mailbox.save()
        account = StripeAccount(agency=tenant.agency, account_id="acct_reseal")
        account.sealed_api_key = keyring.seal(b"rk_test_key", aad=account.secret_aad("api-key"))
        account.sealed_webhook_secret = keyring.seal(
            b"whsec_stripe", aad=account.secret_aad("webhook-secret")
        )
        account.save()
    export = DataExport.objects.create(user=tenant.requester, status=ExportStatus.READY)
    export.sealed_key = keyring.seal(b"k" * 32, aad=export_key_aad(export))
    export.save()
    return [
        (endpoint, "sealed_secret", endpoint.secret_aad(), b"whsec-endpoint"),
        (mailbox, "sealed_password", mailbox.password_aad(), b"imap-password"),
        (account, "sealed_api_key", account.secret_aad("api-key"), b"rk_test_key"),
        (account, "sealed_webhook_secret", account.secret_aad("webhook-secret"), b"whsec_stripe"),
        (export, "sealed_key", export_key_aad(export), b"k" * 32),
    ]


def test_reseal_secrets_moves_every_declared_column_to_the_new_master_key(tenant, settings):
    rows = _sealed_rows(tenant)
    new_key = os.urandom(32)
    settings.PORTAL_MASTER_KEYS = [new_key, *settings.PORTAL_MASTER_KEYS]
    out = StringIO()

    call_command("reseal_secrets", stdout=out)

    assert f"Re-sealed {len(rows)} secret(s)." in out.getvalue()
    settings.PORTAL_MASTER_KEYS = [new_key]  # the old key can go: every value still opens
    with agency_context(tenant.agency):
        for row, field, aad, plaintext in rows:
            row.refresh_from_db()
            sealed = bytes(getattr(row, field))
            assert keyring.sealed_with_current_key(sealed), (row, field)
            assert keyring.open_sealed(sealed, aad=aad) == plaintext
    # Run again, nothing is left to do.
    again = StringIO()
    call_command("reseal_secrets", stdout=again)
    assert "Re-sealed 0 secret(s)." in again.getvalue()


def test_a_value_no_key_opens_is_named_and_the_command_fails(tenant, settings):
    rows = _sealed_rows(tenant)
    settings.PORTAL_MASTER_KEYS = [os.urandom(32)]  # the key that sealed them is gone
    err = StringIO()

    with pytest.raises(Exception, match=rf"{len(rows)} secret\(s\) could not be opened"):
        call_command("reseal_secrets", stdout=StringIO(), stderr=err)

    assert "webhook signing secret" in err.getvalue()
    assert "mailbox password" in err.getvalue()
    assert "data export key" in err.getvalue()
