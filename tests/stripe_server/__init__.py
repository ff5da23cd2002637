"""A small, stateful Stripe of the project's own, for the tests and the demo.

The official ``stripe`` client talks to it over HTTP exactly as it talks to Stripe (only its
API base address differs): form-encoded requests with Stripe's nested keys, a Bearer key that
names an account, ``Idempotency-Key``, Stripe-shaped objects and errors. It serves the calls
the portal makes (``GET /v1/account``, Checkout sessions, PaymentIntents, refunds), a hosted
checkout page where a person types a test card, and signs and delivers webhooks the way
Stripe does. ``/_control/`` registers accounts and makes the server slow or unreachable.

Run it for the demo with ``python -m tests.stripe_server`` (127.0.0.1:12111); the tests start
it on a free port (tests/stripe_server/fixtures.py).
"""

from tests.stripe_server.server import LocalStripe, start_in_thread

__all__ = ["LocalStripe", "start_in_thread"]
