"""Paying an invoice by card on Stripe's hosted Checkout page: open (or reuse) a session for
what is due now, and confirm a session the person came back from.

The portal never sees the card. A session is for one amount: the deposit while one is asked
and unpaid, else the balance. A second click reuses the open session (the same row, or
Stripe's answer to the same ``Idempotency-Key``), so a double click never opens two pages
that could both be paid. Whatever the person's browser says, a payment is recorded only from
Stripe's own word: the signed webhook, or the session read back from Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

import audit
from accounts.models import User
from billing import stripe_access, stripe_events, stripe_gateway
from billing.errors import BillingError
from billing.models import CheckoutAttempt, Invoice, InvoiceStatus, Payment, PaymentMethod
from billing.money import format_money
from billing.services.common import lock_invoice
from billing.services.connect import api_key_of
from billing.services.payments import record_payment

# How long Stripe keeps the page open (Stripe allows 30 minutes to 24 hours), and how much of
# that must be left for a second click to reuse it rather than open a new one.
SESSION_LIFETIME = timedelta(hours=1)
REUSE_MARGIN = timedelta(minutes=10)
# Stripe's smallest card charge (USD and CAD).
STRIPE_MINIMUM_CENTS = 50


@dataclass(frozen=True)
class ReturnUrls:
    """Where Stripe sends the person back: ``success`` must contain
    ``{CHECKOUT_SESSION_ID}``, which Stripe replaces with the session's id."""

    success: str
    cancel: str


def _refusal(invoice: Invoice) -> str | None:
    """Why ``invoice`` cannot be paid now, in the payer's language (None: it can)."""
    if invoice.status == InvoiceStatus.DRAFT:
        return gettext("This invoice has not been sent yet.")
    values = {"number": invoice.number}
    if invoice.status == InvoiceStatus.PAID:
        return gettext("Invoice %(number)s is already paid. Thank you.") % values
    if invoice.status == InvoiceStatus.VOID:
        return (
            gettext("Invoice %(number)s was cancelled by the agency and cannot be paid.") % values
        )
    if invoice.status == InvoiceStatus.REFUNDED:
        return gettext("Invoice %(number)s was refunded and cannot be paid.") % values
    if invoice.due_now_cents <= 0:
        return gettext("Nothing is owed on invoice %(number)s.") % values
    return None


def checkout_start(
    *,
    invoice: Invoice,
    urls: ReturnUrls,
    actor: User | None,
    http_request: HttpRequest | None = None,
) -> CheckoutAttempt:
    """A Checkout session for what is due now on ``invoice`` (fetched for its requester
    through billing.access): an open one of the same amount is reused. Refuses (BillingError,
    nothing kept) an invoice that is not owed, an agency without Stripe, an amount under
    Stripe's minimum, and Stripe not answering."""
    with transaction.atomic():
        # The request's row, then the invoice's, as every writer of an invoice does: two
        # clicks at once run one after the other, and the second reuses the first's session.
        _, invoice = lock_invoice(invoice)
        refusal = _refusal(invoice)
        if refusal:
            raise BillingError(refusal)
        account = stripe_access.stripe_account(invoice.agency)
        if account is None:
            raise BillingError(
                gettext(
                    "This agency does not take card payments online yet. Contact the agency "
                    "to pay another way."
                )
            )
        amount = invoice.due_now_cents
        if amount < STRIPE_MINIMUM_CENTS:
            raise BillingError(
                gettext(
                    "Card payments start at %(minimum)s. Contact the agency to pay this "
                    "amount another way."
                )
                % {"minimum": format_money(STRIPE_MINIMUM_CENTS, invoice.currency)}
            )
        now = timezone.now()
        reusable = stripe_access.reusable_checkout(invoice, amount, now + REUSE_MARGIN)
        if reusable is not None:
            return reusable
        is_deposit = invoice.status == InvoiceStatus.SENT and amount < invoice.balance_cents
        earlier = stripe_access.checkout_attempts_count(invoice, amount)
        what = "Deposit" if is_deposit else "Payment"
        session = stripe_gateway.create_checkout_session(
            api_key_of(account),
            amount_cents=amount,
            currency=invoice.currency,
            description=f"{what} for invoice {invoice.number} (request {invoice.request.number})",
            metadata={
                "invoice_id": str(invoice.pk),
                "agency_id": str(invoice.agency_id),
                "invoice_number": invoice.number,
            },
            client_reference_id=f"invoice-{invoice.pk}",
            success_url=urls.success,
            cancel_url=urls.cancel,
            expires_at=int((now + SESSION_LIFETIME).timestamp()),
            # The same invoice, paid so far, amount and attempt: Stripe answers a repeat of
            # this call (a retried request, two processes at once) with the same session.
            idempotency_key=(
                f"portal-checkout-{invoice.agency_id}-{invoice.pk}-{invoice.paid_cents}-"
                f"{amount}-{earlier}"
            ),
        )
        if session.amount_total != amount or session.currency != invoice.currency:
            raise BillingError(gettext("Stripe answered with another amount; nothing was charged."))
        try:
            with transaction.atomic():
                attempt = CheckoutAttempt.objects.create(
                    agency=invoice.agency,
                    invoice=invoice,
                    session_id=session.id,
                    amount_cents=amount,
                    is_deposit=is_deposit,
                    url=session.url,
                    expires_at=datetime.fromtimestamp(session.expires_at, tz=UTC),
                )
        except IntegrityError:
            found = stripe_access.checkout_by_session(invoice.agency, session.id)
            if found is None:
                raise
            return found
        audit.record_for(
            stripe_events.CHECKOUT_STARTED,
            invoice,
            actor=actor,
            http_request=http_request,
            number=invoice.number,
            amount_cents=amount,
            currency=invoice.currency,
            session=session.id,
            deposit=is_deposit,
        )
    return attempt


def checkout_confirm(
    *, attempt: CheckoutAttempt, http_request: HttpRequest | None = None
) -> Payment | None:
    """Ask Stripe about the session the person came back from (the webhook may not have
    arrived yet) and record the payment when Stripe says it is paid. Recording is idempotent:
    the webhook that follows finds it done. None while Stripe says it is not paid."""
    if attempt.completed_at is not None:
        return stripe_access.payment_of_intent(attempt.invoice.agency, _intent_of(attempt))
    account = stripe_access.stripe_account(attempt.invoice.agency)
    if account is None:
        return None
    session = stripe_gateway.retrieve_checkout_session(api_key_of(account), attempt.session_id)
    if session.status != "complete" or session.payment_status != "paid":
        return None
    return apply_paid_session(attempt.invoice, session, http_request=http_request)


def _intent_of(attempt: CheckoutAttempt) -> str:
    found = (
        Payment.objects.filter(agency=attempt.agency_id, stripe_checkout_session=attempt.session_id)
        .values_list("stripe_payment_intent", flat=True)
        .first()
    )
    return found or ""


def apply_paid_session(
    invoice: Invoice,
    session: stripe_gateway.CheckoutSession,
    *,
    http_request: HttpRequest | None = None,
) -> Payment:
    """Record what Stripe says was paid in ``session`` (its amount and currency, never the
    browser's), once; mark the portal's Checkout row done."""
    if session.currency != invoice.currency:
        raise BillingError(
            gettext(
                "Stripe reported a payment in %(paid_in)s, but invoice %(number)s is in "
                "%(currency)s."
            )
            % {
                "paid_in": session.currency.upper(),
                "number": invoice.number,
                "currency": invoice.currency.upper(),
            }
        )
    with transaction.atomic():
        payment = record_payment(
            invoice=invoice,
            amount_cents=session.amount_total,
            method=PaymentMethod.CARD,
            reference=session.id[-120:],
            stripe_payment_intent=session.payment_intent,
            stripe_checkout_session=session.id,
            actor=None,
            http_request=http_request,
        )
        mark_completed(invoice, session.id)
    return payment


def mark_completed(invoice: Invoice, session_id: str) -> None:
    CheckoutAttempt.objects.filter(
        agency=invoice.agency_id, session_id=session_id, completed_at__isnull=True
    ).update(completed_at=timezone.now())
