"""The portal's one door to Stripe: the only module that imports ``stripe``.

Each call builds a ``stripe.StripeClient`` with the agency's own (restricted) key, Stripe's
address or ``settings.STRIPE_API_BASE`` (the local Stripe of the tests and the demo), a few
network retries and short timeouts (connect 5 s, read 15 s by default), and answers plain
values (the dataclasses below), never Stripe's objects. Every Stripe error becomes a
``BillingError`` whose message a person can act on; a timeout or an unreachable Stripe says
that nothing was charged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import stripe
from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from billing.errors import BillingError

logger = logging.getLogger(__name__)

UNREACHABLE = gettext_noop("Stripe did not answer; nothing was charged. Try again in a minute.")


class StripeUnavailable(BillingError):
    """Stripe did not answer (timeout, connection refused, its own server error): nothing
    happened there that the portal knows of; the same call may be tried again later."""


class SignatureInvalid(Exception):
    """A webhook's signature did not verify (forged, another secret, or too old)."""


@dataclass(frozen=True)
class AccountInfo:
    id: str
    display_name: str
    livemode: bool
    default_currency: str


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid, no_payment_required
    payment_intent: str
    amount_total: int
    currency: str
    expires_at: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    status: str
    amount_received: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundInfo:
    id: str
    amount: int
    status: str
    payment_intent: str
    currency: str
    reason: str = ""  # what staff typed (the portal puts it in the refund's metadata)


def _client(api_key: str) -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(
            timeout=(settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT)
        ),
    )


@contextmanager
def _plain_errors(what: str) -> Iterator[None]:
    """Stripe's exceptions as BillingError with a message for a person (logged by type and
    code only: never a key, never a card detail)."""
    try:
        yield
    except stripe.APIConnectionError as error:
        logger.warning("stripe %s: no answer (%s)", what, type(error).__name__)
        raise StripeUnavailable(gettext(UNREACHABLE)) from None
    except stripe.AuthenticationError:
        raise BillingError(
            gettext("Stripe did not accept this key. Copy it again from the Stripe dashboard.")
        ) from None
    except stripe.PermissionError:
        raise BillingError(
            gettext(
                "This key may not do that in Stripe. Give the restricted key write access "
                "to Checkout Sessions and Refunds, and read access to PaymentIntents."
            )
        ) from None
    except stripe.RateLimitError:
        raise StripeUnavailable(
            gettext("Stripe is busy; nothing was charged. Try again in a minute.")
        ) from None
    except stripe.CardError as error:
        raise BillingError(error.user_message or gettext("The card was declined.")) from None
    except stripe.InvalidRequestError as error:
        logger.warning("stripe %s refused: %s", what, error.code or "invalid request")
        detail = error.user_message or ""
        raise BillingError(gettext("Stripe refused this: %(detail)s") % {"detail": detail}) from (
            None
        )
    except stripe.StripeError as error:
        logger.warning("stripe %s failed: %s", what, type(error).__name__)
        raise StripeUnavailable(gettext(UNREACHABLE)) from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    plain = value.to_dict() if hasattr(value, "to_dict") else dict(value)
    return {str(k): str(v) for k, v in plain.items()}


def account_info(api_key: str) -> AccountInfo:
    """Who the key belongs to (``GET /v1/account``)."""
    with _plain_errors("account"):
        account = _client(api_key).v1.accounts.retrieve_current()
    dashboard = getattr(getattr(account, "settings", None), "dashboard", None)
    profile = getattr(account, "business_profile", None)
    name = _text(getattr(dashboard, "display_name", None)) or _text(getattr(profile, "name", None))
    return AccountInfo(
        id=account.id,
        display_name=name,
        livemode=bool(getattr(account, "livemode", False)),
        default_currency=_text(getattr(account, "default_currency", None)),
    )


def _session(found: Any) -> CheckoutSession:
    intent = found.payment_intent
    return CheckoutSession(
        id=found.id,
        url=_text(found.url),
        status=_text(found.status),
        payment_status=_text(found.payment_status),
        payment_intent=intent if isinstance(intent, str) else _text(getattr(intent, "id", "")),
        amount_total=int(found.amount_total or 0),
        currency=_text(found.currency),
        expires_at=int(found.expires_at or 0),
        metadata=_metadata(found.metadata),
    )


def create_checkout_session(
    api_key: str,
    *,
    amount_cents: int,
    currency: str,
    description: str,
    metadata: dict[str, str],
    client_reference_id: str,
    success_url: str,
    cancel_url: str,
    expires_at: int,
    idempotency_key: str,
    customer_email: str = "",
) -> CheckoutSession:
    """A hosted Checkout page for one amount (``mode=payment``, one line)."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount_cents,
                    "product_data": {"name": description},
                },
            }
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "client_reference_id": client_reference_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": expires_at,
    }
    if customer_email:
        params["customer_email"] = customer_email
    with _plain_errors("checkout.create"):
        found = _client(api_key).v1.checkout.sessions.create(
            params=cast(Any, params), options={"idempotency_key": idempotency_key}
        )
    return _session(found)


def retrieve_checkout_session(api_key: str, session_id: str) -> CheckoutSession:
    with _plain_errors("checkout.retrieve"):
        return _session(_client(api_key).v1.checkout.sessions.retrieve(session_id))


def retrieve_payment_intent(api_key: str, payment_intent: str) -> PaymentIntentInfo:
    with _plain_errors("payment_intent.retrieve"):
        found = _client(api_key).v1.payment_intents.retrieve(payment_intent)
    return PaymentIntentInfo(
        id=found.id,
        status=_text(found.status),
        amount_received=int(found.amount_received or 0),
        currency=_text(found.currency),
        metadata=_metadata(found.metadata),
    )


def _refund(found: Any) -> RefundInfo:
    intent = found.payment_intent
    return RefundInfo(
        id=found.id,
        amount=int(found.amount or 0),
        status=_text(found.status),
        payment_intent=intent if isinstance(intent, str) else _text(getattr(intent, "id", "")),
        currency=_text(found.currency),
        reason=_metadata(found.metadata).get("reason", "")[:300],
    )


def create_refund(
    api_key: str,
    *,
    payment_intent: str,
    amount_cents: int,
    idempotency_key: str,
    metadata: dict[str, str],
) -> RefundInfo:
    with _plain_errors("refund.create"):
        found = _client(api_key).v1.refunds.create(
            params={
                "payment_intent": payment_intent,
                "amount": amount_cents,
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    return _refund(found)


def list_refunds(api_key: str, payment_intent: str) -> list[RefundInfo]:
    with _plain_errors("refund.list"):
        found = _client(api_key).v1.refunds.list(
            params={"payment_intent": payment_intent, "limit": 100}
        )
    return [_refund(item) for item in found.data]


def verify_signature(payload: bytes, header: str, secret: str, tolerance: int) -> None:
    """Stripe's own verifier: the ``Stripe-Signature`` header must carry an HMAC of the raw
    body with ``secret`` and a timestamp at most ``tolerance`` seconds old."""
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, secret, tolerance)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise SignatureInvalid(str(error)) from None
