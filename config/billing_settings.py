"""Billing's settings (issue 12), read from the environment.

- ``STRIPE_API_BASE``: where the Stripe client sends API calls. Unset in production (Stripe
  itself); the tests and the demo point it at the local Stripe (tests/stripe_server, started
  by ``make run`` on http://127.0.0.1:12111). Production refuses any other address.
- ``STRIPE_CHECKOUT_ORIGIN`` (derived): where "Pay" sends the browser, added to the
  Content-Security-Policy's ``form-action`` (Stripe's hosted Checkout, or the local Stripe).
- ``STRIPE_WEBHOOK_TOLERANCE``: how old (seconds) a webhook's signed timestamp may be; older
  deliveries are refused as replays (Stripe's own default: 300).
- ``STRIPE_CONNECT_TIMEOUT`` / ``STRIPE_READ_TIMEOUT`` (seconds) and
  ``STRIPE_MAX_NETWORK_RETRIES``: a slow or unreachable Stripe costs a person at most a few
  seconds, and the page says nothing was charged.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str


class BillingSettings(NamedTuple):
    api_base: str | None
    checkout_origin: str
    webhook_tolerance: int
    connect_timeout: float
    read_timeout: float
    max_network_retries: int


def billing_settings(*, production: bool) -> BillingSettings:
    api_base = env_str("STRIPE_API_BASE") or None
    if production and api_base is not None and api_base.rstrip("/") != "https://api.stripe.com":
        raise ImproperlyConfigured(
            "STRIPE_API_BASE points somewhere other than Stripe; unset it in production."
        )
    checkout_origin = "https://checkout.stripe.com"
    if api_base is not None:
        parts = urlsplit(api_base)
        checkout_origin = f"{parts.scheme}://{parts.netloc}"
    return BillingSettings(
        api_base=api_base,
        checkout_origin=checkout_origin,
        webhook_tolerance=env_int("STRIPE_WEBHOOK_TOLERANCE", 300, minimum=1),
        connect_timeout=float(env_int("STRIPE_CONNECT_TIMEOUT", 5, minimum=1)),
        read_timeout=float(env_int("STRIPE_READ_TIMEOUT", 15, minimum=1)),
        max_network_retries=env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0),
    )
