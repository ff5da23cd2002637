"""Money received and given back: a payment (by card through Stripe, or a cheque, cash or
other means recorded by staff) and a refund. Each is recorded once: the same Stripe
PaymentIntent (or refund) recorded again returns the first record and changes nothing, so a
webhook delivered twice, or a return page and a webhook racing, never pay twice.

What a payment does, in the payment's transaction: the invoice moves forward (deposit paid,
paid); the request's clock restarts when the invoice paused it and what was due before work
starts is paid (the deposit, or everything); the release hold is lifted once everything is
paid; a public timeline entry, an audit event, and a receipt emailed to the requester."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext

import audit
from accounts.models import User
from billing import audit_events, jobs
from billing.errors import BillingError
from billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod, Refund
from billing.money import format_money
from billing.services.common import (
    check_amount,
    lock_invoice,
    move_to,
    resume_if_paused_by,
    unhold_if_held_by,
)
from requests_portal.services.changes import add_timeline_event

_PAYABLE = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)


def _refusal(invoice: Invoice) -> str:
    """Why no payment is taken on ``invoice`` (in the language of whoever is paying: the
    requester back from Stripe reads it too)."""
    if invoice.status == InvoiceStatus.DRAFT:
        return gettext("This invoice has not been sent yet.")
    values = {"number": invoice.number}
    if invoice.status == InvoiceStatus.PAID:
        return gettext("Invoice %(number)s is already paid.") % values
    if invoice.status == InvoiceStatus.VOID:
        return gettext("Invoice %(number)s was voided and cannot be paid.") % values
    return gettext("Invoice %(number)s was refunded and cannot be paid.") % values


def _existing(invoice: Invoice, stripe_payment_intent: str) -> Payment | None:
    if not stripe_payment_intent:
        return None
    return Payment.objects.filter(
        agency=invoice.agency_id, stripe_payment_intent=stripe_payment_intent
    ).first()


def record_payment(
    *,
    invoice: Invoice,
    amount_cents: int,
    method: str,
    reference: str = "",
    stripe_payment_intent: str = "",
    stripe_checkout_session: str = "",
    actor: User | None = None,
    http_request: HttpRequest | None = None,
) -> Payment:
    """Record ``amount_cents`` received on a sent invoice (see the module's docstring).
    Refuses (BillingError, nothing kept) a draft, paid, void or refunded invoice, an amount
    that is not a positive whole number of cents, above $100,000 or above what is owed."""
    amount_cents = check_amount(amount_cents, "The payment")
    if method not in PaymentMethod.values:
        raise BillingError(gettext("Choose how the payment was made."))
    reference = (reference or "").strip()[:120]
    with transaction.atomic():
        records_request, invoice = lock_invoice(invoice)
        # Checked under the request's lock: a second delivery of the same payment waits for
        # the first to commit, then finds it here.
        existing = _existing(invoice, stripe_payment_intent)
        if existing is not None:
            return existing
        if invoice.status not in _PAYABLE:
            raise BillingError(_refusal(invoice))
        balance = invoice.balance_cents
        if amount_cents > balance:
            raise BillingError(
                gettext(
                    "The payment (%(amount)s) is more than what is owed on %(number)s (%(owed)s)."
                )
                % {
                    "amount": format_money(amount_cents, invoice.currency),
                    "number": invoice.number,
                    "owed": format_money(balance, invoice.currency),
                }
            )
        deposit_due = invoice.status == InvoiceStatus.SENT and invoice.deposit_cents > (
            invoice.paid_cents
        )
        payment = Payment.objects.create(
            agency=invoice.agency,
            invoice=invoice,
            method=method,
            amount_cents=amount_cents,
            is_deposit=deposit_due and amount_cents < balance,
            reference=reference,
            stripe_payment_intent=stripe_payment_intent,
            stripe_checkout_session=stripe_checkout_session,
            recorded_by=actor,
        )
        invoice.paid_cents += amount_cents
        if invoice.paid_cents >= invoice.total_cents:
            move_to(invoice, InvoiceStatus.PAID)
            invoice.paid_at = payment.received_at
        elif 0 < invoice.deposit_cents <= invoice.paid_cents:
            move_to(invoice, InvoiceStatus.PARTIALLY_PAID)
        invoice.save(update_fields=["paid_cents", "status", "paid_at", "updated_at"])
        money = format_money(amount_cents, invoice.currency)
        add_timeline_event(
            records_request,
            "invoice_payment",
            actor,
            f"Payment of {money} received for {invoice.number}"
            + (" (paid in full)" if invoice.status == InvoiceStatus.PAID else ""),
            public=True,
            data={
                "invoice": invoice.pk,
                "number": invoice.number,
                "currency": invoice.currency,
                "amount_cents": amount_cents,
                "paid_in_full": invoice.status == InvoiceStatus.PAID,
            },
        )
        audit.record_for(
            audit_events.PAYMENT_RECORDED,
            invoice,
            actor=actor,
            http_request=http_request,
            number=invoice.number,
            amount_cents=amount_cents,
            currency=invoice.currency,
            method=method,
            reference=reference,
            payment=payment.pk,
            stripe_payment_intent=stripe_payment_intent,
            status=invoice.status,
        )
        start_paid = invoice.status == InvoiceStatus.PAID or (
            0 < invoice.deposit_cents <= invoice.paid_cents
        )
        if start_paid:
            resume_if_paused_by(invoice, records_request, actor)
        if invoice.status == InvoiceStatus.PAID:
            unhold_if_held_by(invoice, records_request, actor, f"{invoice.number} paid")
        jobs.send_receipt(payment)
    return payment


def record_refund(
    *,
    payment: Payment,
    amount_cents: int,
    reason: str,
    stripe_refund: str = "",
    actor: User | None,
    http_request: HttpRequest | None = None,
) -> Refund:
    """Record money given back on one payment (Stripe's refund, once, by its id). The payment
    and the invoice count it; an invoice whose every payment is given back in full is
    refunded (and, if it was still owed, lifts its hold and restarts the clock it paused)."""
    amount_cents = check_amount(amount_cents, "The refund")
    reason = (reason or "").strip()[:300]
    if not reason:
        raise BillingError(gettext("Say why the money is given back."))
    with transaction.atomic():
        invoice = payment.invoice
        records_request, invoice = lock_invoice(invoice)
        if stripe_refund:
            existing = Refund.objects.filter(
                agency=payment.agency_id, stripe_refund=stripe_refund
            ).first()
            if existing is not None:
                return existing
        payment.refresh_from_db(
            from_queryset=Payment.objects.select_for_update().filter(agency=payment.agency_id)
        )
        left = payment.amount_cents - payment.refunded_cents
        if amount_cents > left:
            raise BillingError(
                gettext("At most %(amount)s of this payment can be given back.")
                % {"amount": format_money(left, invoice.currency)}
            )
        refund = Refund.objects.create(
            agency=payment.agency,
            payment=payment,
            amount_cents=amount_cents,
            reason=reason,
            stripe_refund=stripe_refund,
            created_by=actor,
        )
        payment.refunded_cents += amount_cents
        payment.save(update_fields=["refunded_cents"])
        invoice.refunded_cents += amount_cents
        was_owed = invoice.status in _PAYABLE
        if invoice.refunded_cents >= invoice.paid_cents > 0:
            move_to(invoice, InvoiceStatus.REFUNDED)
        invoice.save(update_fields=["refunded_cents", "status", "updated_at"])
        add_timeline_event(
            records_request,
            "invoice_refund",
            actor,
            f"Refund of {format_money(amount_cents, invoice.currency)} on {invoice.number}",
            public=True,
            data={
                "invoice": invoice.pk,
                "number": invoice.number,
                "currency": invoice.currency,
                "amount_cents": amount_cents,
            },
        )
        audit.record_for(
            audit_events.REFUND_RECORDED,
            invoice,
            actor=actor,
            http_request=http_request,
            number=invoice.number,
            amount_cents=amount_cents,
            currency=invoice.currency,
            reason=reason,
            payment=payment.pk,
            refund=refund.pk,
            stripe_refund=stripe_refund,
            status=invoice.status,
        )
        if was_owed and invoice.status == InvoiceStatus.REFUNDED:
            resume_if_paused_by(invoice, records_request, actor)
            unhold_if_held_by(invoice, records_request, actor, f"{invoice.number} refunded")
    return refund
