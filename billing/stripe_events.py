"""Audit event types of the agency's Stripe connection, card checkouts and webhooks (label,
category and sentence of each), and the titles of their pages for the audit log. Payments
and refunds themselves are recorded by billing.services.payments (billing.audit_events)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.registry import register, register_page_titles
from billing.audit_events import BILLING


def _cents(ctx: Mapping[str, Any]) -> str:
    try:
        cents = int(str(ctx.get("amount_cents", 0)))
    except ValueError:
        return "an amount"
    return f"{cents // 100:,}.{cents % 100:02d} {str(ctx.get('currency', '')).upper()}".strip()


STRIPE_CONNECTED = register(
    "billing.stripe_connected",
    lambda c: f"{c['actor']} connected the Stripe account {c.get('account_id', '')}",
    label="Connected Stripe",
    category=BILLING,
)
STRIPE_DISCONNECTED = register(
    "billing.stripe_disconnected",
    lambda c: f"{c['actor']} disconnected the Stripe account {c.get('account_id', '')}",
    label="Disconnected Stripe",
    category=BILLING,
)
CHECKOUT_STARTED = register(
    "billing.checkout_started",
    lambda c: (
        f"{c['actor']} opened Stripe's payment page for {_cents(c)} on invoice "
        f"{c.get('number', '')}"
    ),
    label="Opened a card payment",
    category=BILLING,
)
WEBHOOK_REFUSED = register(
    "billing.webhook_refused",
    lambda c: f"A Stripe event ({c.get('type', '')}) was refused: {c.get('reason', '')}",
    label="Refused a Stripe event",
    category=BILLING,
)
WEBHOOK_UNAPPLIED = register(
    "billing.webhook_unapplied",
    lambda c: (
        f"Stripe reported a payment of {_cents(c)} that could not be recorded on invoice "
        f"{c.get('number', '') or c.get('invoice', '')}: {c.get('reason', '')}"
    ),
    label="A Stripe payment could not be recorded",
    category=BILLING,
)

register_page_titles(
    {
        "billing:stripe_connect": "the Stripe connection",
        "billing:stripe_disconnect": "the form to disconnect Stripe",
        "billing:stripe_webhook": "Stripe's webhook endpoint",
        "billing:invoice_pay": "the form to pay invoice {invoice_id} by card",
        "billing:pay_return": "the payment confirmation of invoice {invoice_id}",
        "billing:pay_cancel": "the cancelled payment of invoice {invoice_id}",
        "billing:invoice_refund": "the refund form of invoice {invoice_id}",
    }
)
