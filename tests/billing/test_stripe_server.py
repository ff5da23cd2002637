"""The local Stripe answers the official client as Stripe does for the calls the portal
makes: nested form keys, Bearer keys bound to accounts, Idempotency-Key replays, Stripe's
error shapes, the hosted page's test cards and Stripe-signed events (checked here with the
stripe library's own verifier)."""

from __future__ import annotations

import json

import pytest
import stripe

from tests.stripe_server.api import parse_form
from tests.stripe_server.fixtures import new_stripe_account


def _client(server, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": server.base}, http_client=stripe.RequestsClient(timeout=5)
    )


def _session_params(amount: int = 1_500) -> dict:
    return {
        "mode": "payment",
        "success_url": "http://alpha.localhost/done?s={CHECKOUT_SESSION_ID}",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "Invoice"},
                },
            }
        ],
        "metadata": {"invoice_id": "7"},
    }


def test_stripes_nested_form_keys_are_parsed():
    parsed = parse_form(
        "line_items[0][price_data][unit_amount]=100&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[a]=b&expand[]=x&expand[]=y&mode=payment"
    )
    assert parsed == {
        "line_items": [{"price_data": {"unit_amount": "100"}, "quantity": "2"}, {"quantity": "1"}],
        "metadata": {"a": "b"},
        "expand": ["x", "y"],
        "mode": "payment",
    }


def test_an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters(stripe_server):
    account = new_stripe_account(stripe_server)
    client = _client(stripe_server, account.api_key)
    first = client.v1.checkout.sessions.create(
        params=_session_params(), options={"idempotency_key": "k-1"}
    )
    again = client.v1.checkout.sessions.create(
        params=_session_params(), options={"idempotency_key": "k-1"}
    )
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=_session_params(2_000), options={"idempotency_key": "k-1"}
        )


def test_keys_are_bound_to_their_account_and_errors_have_stripes_shape(stripe_server):
    mine = new_stripe_account(stripe_server)
    theirs = new_stripe_account(stripe_server)
    session = _client(stripe_server, mine.api_key).v1.checkout.sessions.create(
        params=_session_params()
    )
    with pytest.raises(stripe.InvalidRequestError) as missing:
        _client(stripe_server, theirs.api_key).v1.checkout.sessions.retrieve(session.id)
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.AuthenticationError):
        _client(stripe_server, "rk_test_unknownkey000000").v1.accounts.retrieve_current()
    with pytest.raises(stripe.InvalidRequestError) as small:
        _client(stripe_server, mine.api_key).v1.checkout.sessions.create(params=_session_params(10))
    assert small.value.code == "amount_too_small"


def test_the_hosted_page_takes_test_cards_and_signs_its_events(stripe_server):
    account = new_stripe_account(stripe_server)
    client = _client(stripe_server, account.api_key)
    session = client.v1.checkout.sessions.create(params=_session_params())
    status, _, page = stripe_server.pay(session.url, "4242 4242 4242 4241")
    assert status == 402 and "Your card number is invalid." in page
    status, _, page = stripe_server.pay(session.url, "4000000000000002")
    assert status == 402 and "Your card was declined." in page
    status, location, _ = stripe_server.pay(session.url)
    assert status == 303 and location == f"http://alpha.localhost/done?s={session.id}"
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    [event] = stripe_server.events(account.account_id, "checkout.session.completed")
    header = stripe_server.sign(account.account_id, event["payload"])
    stripe.WebhookSignature.verify_header(event["payload"], header, account.webhook_secret, 300)
    assert json.loads(event["payload"])["data"]["object"]["id"] == session.id
    assert stripe_server.pay(session.url)[2].count("has been paid") == 1
