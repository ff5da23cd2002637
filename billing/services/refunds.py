"""Giving money back on a payment, in full or in part.

A card payment is refunded through Stripe first (``POST /v1/refunds`` on its PaymentIntent,
with an ``Idempotency-Key`` of the payment, what it had given back so far and the amount, so
a form sent twice or a retried call refunds once), then recorded with Stripe's refund id;
the ``charge.refunded`` webhook that follows finds it recorded. A cheque or cash payment is
given back outside the portal: the refund is only recorded.
"""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User
from billing import stripe_access, stripe_gateway
from billing.errors import BillingError
from billing.models import Payment, PaymentMethod, Refund
from billing.money import format_money
from billing.services.common import check_amount
from billing.services.connect import api_key_of
from billing.services.payments import record_refund


def refund_issue(
    *,
    payment: Payment,
    amount_cents: int,
    reason: str,
    actor: User,
    http_request: HttpRequest | None = None,
) -> Refund:
    """Refund ``amount_cents`` of ``payment`` (fetched through billing.access by staff who
    may refund). Refuses an amount out of range or above what is left, a missing reason, a
    card payment when Stripe is no longer connected, and Stripe refusing or not answering
    (nothing is recorded then)."""
    amount_cents = check_amount(amount_cents, "The refund")
    reason = (reason or "").strip()[:300]
    if not reason:
        raise BillingError("Say why the money is given back.")
    left = payment.amount_cents - payment.refunded_cents
    currency = payment.invoice.currency
    if amount_cents > left:
        raise BillingError(
            f"At most {format_money(left, currency)} of this payment can be given back."
        )
    if payment.method != PaymentMethod.CARD or not payment.stripe_payment_intent:
        return record_refund(
            payment=payment,
            amount_cents=amount_cents,
            reason=reason,
            actor=actor,
            http_request=http_request,
        )
    account = stripe_access.stripe_account(payment.invoice.agency)
    if account is None:
        raise BillingError(
            "Stripe is not connected any more: connect the agency's Stripe account again to "
            "refund a card payment."
        )
    refund = stripe_gateway.create_refund(
        api_key_of(account),
        payment_intent=payment.stripe_payment_intent,
        amount_cents=amount_cents,
        idempotency_key=(
            f"portal-refund-{payment.agency_id}-{payment.pk}-{payment.refunded_cents}-"
            f"{amount_cents}"
        ),
        metadata={"reason": reason, "payment_id": str(payment.pk)},
    )
    if refund.amount != amount_cents:
        raise BillingError("Stripe answered with another amount; check the payment in Stripe.")
    return record_refund(
        payment=payment,
        amount_cents=amount_cents,
        reason=reason,
        stripe_refund=refund.id,
        actor=actor,
        http_request=http_request,
    )
