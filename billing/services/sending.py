"""An invoice leaves the draft: sent to the requester (numbered, emailed, the request's clock
paused and its records held when the agency's schedule says so), voided with a reason, or
paid offline (a cheque, cash) as staff record it."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.local_time import agency_today
from accounts.models import User
from billing import access, audit_events, emails
from billing.errors import BillingError
from billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod
from billing.money import format_money
from billing.services.common import (
    hold_reason,
    invoice_label,
    lock_invoice,
    next_sequence,
    pause_reason,
    record_event,
    resume_if_paused_by,
    unhold_if_held_by,
)
from billing.services.payments import record_payment
from requests_portal.services import clock, holds
from requests_portal.services.changes import add_timeline_event

OFFLINE_METHODS = (PaymentMethod.CHEQUE, PaymentMethod.CASH, PaymentMethod.OTHER)


def invoice_send(
    *, invoice: Invoice, actor: User, http_request: HttpRequest | None = None
) -> Invoice:
    """Send a draft: it gets its number (INV-<year>-<n>, the agency's year), the requester an
    email with the amount and a link to the invoice. Refused for nothing to pay or a total
    below the schedule's minimum. With the schedule's rules: the request's clock pauses
    (when open and running) and its records are held until the invoice is paid."""
    with transaction.atomic():
        records_request, invoice = lock_invoice(invoice)
        if invoice.status != InvoiceStatus.DRAFT:
            raise BillingError(f"Invoice {invoice.number} was already sent.")
        agency = records_request.agency
        schedule = access.fee_schedule(agency)
        if invoice.total_cents <= 0:
            raise BillingError("There is nothing to pay on this invoice: add a line first.")
        if invoice.total_cents < schedule.minimum_invoice_cents:
            raise BillingError(
                f"The total ({format_money(invoice.total_cents, invoice.currency)}) is below "
                f"the agency's minimum invoice "
                f"({format_money(schedule.minimum_invoice_cents, invoice.currency)}): no "
                "invoice is sent for less."
            )
        if invoice.currency != schedule.currency:
            raise BillingError(
                "The agency's currency changed since this draft was started: void it and "
                "start a new one."
            )
        year = agency_today(agency).year
        invoice.year = year
        invoice.sequence = next_sequence(agency.pk, year)
        invoice.status = InvoiceStatus.SENT
        invoice.sent_at = timezone.now()
        total = format_money(invoice.total_cents, invoice.currency)
        deposit = (
            f"; deposit due now {format_money(invoice.deposit_cents, invoice.currency)}"
            if 0 < invoice.deposit_cents < invoice.total_cents
            else ""
        )
        add_timeline_event(
            records_request,
            "invoice_sent",
            actor,
            f"Invoice {invoice.number} sent: {total}{deposit}",
            public=True,
            # What billing.timeline_text needs to say it again in the reader's language.
            data={
                "invoice": invoice.pk,
                "number": invoice.number,
                "currency": invoice.currency,
                "total_cents": invoice.total_cents,
                "deposit_cents": invoice.deposit_cents if deposit else 0,
            },
        )
        if (
            schedule.pause_clock_when_sent
            and not records_request.is_closed
            and not records_request.is_paused
        ):
            clock.request_pause(
                records_request=records_request,
                actor=actor,
                reason=pause_reason(invoice),
                http_request=http_request,
            )
            invoice.paused_clock = True
        if schedule.hold_release_until_paid:
            holds.hold_release(
                records_request=records_request, actor=actor, reason=hold_reason(invoice)
            )
        invoice.save()
        record_event(
            audit_events.INVOICE_SENT,
            invoice,
            actor,
            http_request,
            total_cents=invoice.total_cents,
            deposit_cents=invoice.deposit_cents,
            currency=invoice.currency,
            paused_clock=invoice.paused_clock,
            held=bool(schedule.hold_release_until_paid),
        )
        emails.email_invoice(invoice, http_request=http_request)
    return invoice


def invoice_void(
    *, invoice: Invoice, actor: User, reason: str, http_request: HttpRequest | None = None
) -> Invoice:
    """Void a draft or an unpaid invoice, with the reason: the records it held are no longer
    held and the clock it paused restarts. An invoice with money still kept on it is refunded
    first (what was paid must go back before the invoice can say nothing is owed)."""
    reason = (reason or "").strip()[:300]
    if not reason:
        raise BillingError("Give the reason for voiding the invoice.")
    with transaction.atomic():
        records_request, invoice = lock_invoice(invoice)
        if invoice.status == InvoiceStatus.VOID:
            raise BillingError(f"{invoice_label(invoice).capitalize()} is already void.")
        if invoice.status not in (
            InvoiceStatus.DRAFT,
            InvoiceStatus.SENT,
            InvoiceStatus.PARTIALLY_PAID,
        ):
            raise BillingError(
                f"Invoice {invoice.number} is {invoice.get_status_display().lower()}: only "
                "a draft or an unpaid invoice can be voided."
            )
        kept = invoice.paid_cents - invoice.refunded_cents
        if kept > 0:
            raise BillingError(
                f"{format_money(kept, invoice.currency)} was paid on {invoice.number}: refund "
                "it before voiding the invoice."
            )
        was_sent = invoice.status != InvoiceStatus.DRAFT
        invoice.status = InvoiceStatus.VOID
        invoice.voided_at = timezone.now()
        invoice.void_reason = reason
        invoice.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
        label = invoice_label(invoice)
        add_timeline_event(
            records_request,
            "invoice_voided",
            actor,
            f"Invoice {invoice.number} voided: {reason}"
            if was_sent
            else f"Draft invoice voided: {reason}",
            public=was_sent,
            data={"invoice": invoice.pk, **({"number": invoice.number} if was_sent else {})},
        )
        record_event(audit_events.INVOICE_VOIDED, invoice, actor, http_request, reason=reason)
        if was_sent:
            unhold_if_held_by(invoice, records_request, actor, f"{label} voided")
            resume_if_paused_by(invoice, records_request, actor)
    return invoice


def invoice_pay_offline(
    *,
    invoice: Invoice,
    actor: User,
    amount_cents: int,
    method: str,
    reference: str,
    http_request: HttpRequest | None = None,
) -> Payment:
    """A payment staff received in person or by post: a cheque (its number), cash or other
    means (a receipt number, a transfer reference)."""
    if method not in OFFLINE_METHODS:
        raise BillingError("Choose cheque, cash or other.")
    reference = (reference or "").strip()
    if method != PaymentMethod.CASH and not reference:
        raise BillingError("Give the cheque number or the payment's reference.")
    return record_payment(
        invoice=invoice,
        amount_cents=amount_cents,
        method=method,
        reference=reference,
        actor=actor,
        http_request=http_request,
    )
