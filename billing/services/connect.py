"""The agency's own Stripe account: connect it with a restricted key and the signing secret
of the webhook endpoint the agency made for the portal, or disconnect it.

The key is tried first (``GET /v1/account``): what Stripe answers (the account's id, name,
live or test mode) is stored with both secrets, each sealed with the master keyring and
bound to this agency (``StripeAccount.secret_aad``). One Stripe account serves one agency:
a key of an account another agency connected is refused (the unique account id says so
without this agency ever reading the other's row). The key is never shown again, only its
last four characters.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from billing import stripe_events, stripe_gateway
from billing.errors import BillingError
from billing.models import StripeAccount
from vault import keyring

# A restricted key (what the portal asks for), or a test secret key (the local Stripe and
# Stripe's test mode). A live secret key is refused: it can do far more than the portal needs.
API_KEY = re.compile(r"(rk_test|rk_live|sk_test)_[A-Za-z0-9_]{8,240}")
WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_+/=]{8,240}")


def check_api_key(value: str) -> str:
    key = (value or "").strip()
    if key.startswith("sk_live_"):
        raise BillingError(
            "Use a restricted key (rk_live_...), not the account's secret key: the portal "
            "needs only Checkout Sessions, PaymentIntents and Refunds."
        )
    if not API_KEY.fullmatch(key):
        raise BillingError(
            "Paste the restricted key as Stripe shows it: it starts with rk_live_ (or rk_test_ "
            "for test mode)."
        )
    return key


def check_webhook_secret(value: str) -> str:
    secret = (value or "").strip()
    if not WEBHOOK_SECRET.fullmatch(secret):
        raise BillingError(
            "Paste the webhook endpoint's signing secret as Stripe shows it: it starts with whsec_."
        )
    return secret


def api_key_of(account: StripeAccount) -> str:
    return keyring.open_sealed(
        bytes(account.sealed_api_key), aad=account.secret_aad("api-key")
    ).decode()


def webhook_secret_of(account: StripeAccount) -> str:
    return keyring.open_sealed(
        bytes(account.sealed_webhook_secret), aad=account.secret_aad("webhook-secret")
    ).decode()


def key_hint(account: StripeAccount) -> str:
    """What the page shows of the key: its kind and last four characters."""
    key = api_key_of(account)
    return f"{key[:8]}…{key[-4:]}"


def stripe_connect(
    *,
    agency: Agency,
    actor: User,
    api_key: str,
    webhook_secret: str,
    http_request: HttpRequest | None = None,
) -> StripeAccount:
    """Try the key with Stripe, then store the connection (replacing this agency's earlier
    one). Refuses a malformed key or secret, a key Stripe does not accept, Stripe not
    answering, and an account already connected to another agency."""
    api_key = check_api_key(api_key)
    webhook_secret = check_webhook_secret(webhook_secret)
    info = stripe_gateway.account_info(api_key)
    livemode = "_live_" in api_key
    try:
        with transaction.atomic():
            account = StripeAccount.objects.select_for_update().filter(agency=agency).first()
            previous = account.account_id if account is not None else ""
            if account is None:
                account = StripeAccount(agency=agency)
            account.account_id = info.id
            account.display_name = info.display_name[:200]
            account.livemode = livemode
            account.sealed_api_key = keyring.seal(
                api_key.encode(), aad=account.secret_aad("api-key")
            )
            account.sealed_webhook_secret = keyring.seal(
                webhook_secret.encode(), aad=account.secret_aad("webhook-secret")
            )
            account.connected_at = timezone.now()
            account.connected_by = actor
            account.save()
            audit.record_for(
                stripe_events.STRIPE_CONNECTED,
                account,
                actor=actor,
                http_request=http_request,
                account_id=info.id,
                display_name=account.display_name,
                livemode=livemode,
                previous_account_id=previous,
                key_last4=api_key[-4:],
            )
    except IntegrityError:
        raise BillingError(
            "This Stripe account is already connected to another agency on this portal. Each "
            "agency connects its own account."
        ) from None
    return account


def stripe_disconnect(
    *, account: StripeAccount, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Forget the connection (both secrets with it). Card payments stop at once; webhooks
    for the account are refused from now on."""
    with transaction.atomic():
        audit.record_for(
            stripe_events.STRIPE_DISCONNECTED,
            account,
            actor=actor,
            http_request=http_request,
            account_id=account.account_id,
        )
        StripeAccount.objects.filter(agency=account.agency_id, pk=account.pk).delete()
