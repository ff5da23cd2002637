"""Pytest fixtures of the local Stripe (a pytest plugin module, loaded by tests/conftest.py).

``stripe_server`` starts one server for the whole run on a free loopback port, in a thread
of the test process (it is plain Python: there is nothing to install, so it never skips).
``local_stripe`` points the portal at it for one test (``settings.STRIPE_API_BASE``, short
timeouts, no retries) and puts its behaviour right afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.stripe_server.server import LocalStripe, start_in_thread


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[LocalStripe]:
    server, thread = start_in_thread("127.0.0.1", 0)
    try:
        yield LocalStripe(server.base, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def local_stripe(stripe_server: LocalStripe, settings) -> Iterator[LocalStripe]:
    settings.STRIPE_API_BASE = stripe_server.base
    # "Pay" redirects the browser's form to the local Stripe's page (config.billing_settings).
    settings.CONTENT_SECURITY_POLICY = settings.CONTENT_SECURITY_POLICY.replace(
        settings.STRIPE_CHECKOUT_ORIGIN, stripe_server.base
    )
    settings.STRIPE_CONNECT_TIMEOUT = 2.0
    settings.STRIPE_READ_TIMEOUT = 2.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_server.behave()
    yield stripe_server
    stripe_server.behave()


@dataclass(frozen=True)
class StripeTestAccount:
    """An account on the local Stripe: its key, id and webhook signing secret."""

    api_key: str
    account_id: str
    webhook_secret: str


def new_stripe_account(
    server: LocalStripe, *, name: str = "Test Agency", webhook_url: str = ""
) -> StripeTestAccount:
    """Register a fresh account (random key, id and secret) on the local Stripe."""
    account = StripeTestAccount(
        api_key=f"rk_test_{secrets.token_hex(12)}",
        account_id=f"acct_{secrets.token_hex(8)}",
        webhook_secret=f"whsec_{secrets.token_hex(16)}",
    )
    server.register_account(
        api_key=account.api_key,
        account_id=account.account_id,
        display_name=name,
        webhook_url=webhook_url,
        webhook_secret=account.webhook_secret,
    )
    return account
