"""What every change to an invoice shares: the request's row locked first and then the
invoice's (the order every writer of a request follows, so none deadlocks), the checks on
amounts, and the effects on the request (the clock, the release hold) when an invoice is
sent, paid, voided or refunded."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

import audit
from accounts.models import User
from accounts.tenancy import lock_tenant_row
from audit.registry import EventType
from billing.errors import BillingError
from billing.models import MAX_AMOUNT_CENTS, STATUS_RANK, Invoice, InvoiceCounter, InvoiceStatus
from billing.money import format_plain
from requests_portal.models import RecordsRequest
from requests_portal.services import clock, holds
from requests_portal.services.changes import _lock

# Drafts are numbered in a sequence of their own (year 0): the invoice number the requester
# sees (INV-2026-0007) is given when the invoice is sent, so voided drafts leave no gaps.
DRAFT_YEAR = 0


def invoice_label(invoice: Invoice) -> str:
    """How staff name an invoice: its number once sent, "the draft invoice" before."""
    return "the draft invoice" if invoice.year == DRAFT_YEAR else invoice.number


def next_sequence(invoice_agency_id: int, year: int) -> int:
    """The next number of the agency's yearly invoice sequence, the counter's row locked
    until the caller's transaction ends (concurrent sends get distinct numbers)."""
    counter, _ = InvoiceCounter.objects.get_or_create(agency_id=invoice_agency_id, year=year)
    counter = lock_tenant_row(counter)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def record_event(
    event: EventType,
    invoice: Invoice,
    actor: User | None,
    http_request: HttpRequest | None,
    **details: object,
) -> None:
    audit.record_for(
        event,
        invoice,
        actor=actor,
        http_request=http_request,
        number=invoice_label(invoice),
        request=f"request {invoice.request.number}",
        **details,
    )


def lock_invoice(invoice: Invoice) -> tuple[RecordsRequest, Invoice]:
    """Lock the invoice's request, then the invoice; both re-read (call inside a
    transaction). The caller's objects are refreshed in place."""
    records_request = invoice.request
    _lock(records_request)
    invoice.refresh_from_db(
        from_queryset=Invoice.objects.select_for_update().filter(agency=invoice.agency_id)
    )
    invoice.request = records_request
    return records_request, invoice


def check_amount(value: object, what: str = "The amount", *, allow_zero: bool = False) -> int:
    """An amount in integer cents within the portal's bounds, or BillingError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BillingError(f"{what} must be a whole number of cents.")
    if value < 0:
        raise BillingError(f"{what} cannot be negative.")
    if value == 0 and not allow_zero:
        raise BillingError(f"{what} must be above zero.")
    if value > MAX_AMOUNT_CENTS:
        raise BillingError(f"{what} cannot be more than {format_plain(MAX_AMOUNT_CENTS)}.")
    return value


def require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise BillingError(
            f"Invoice {invoice.number} was sent and cannot be changed: void it and issue a "
            "new one instead."
        )


def move_to(invoice: Invoice, status: str) -> None:
    """Move the invoice forward only: a late or repeated event never moves it back."""
    if STATUS_RANK[InvoiceStatus(status)] > STATUS_RANK[InvoiceStatus(invoice.status)]:
        invoice.status = status


def pause_reason(invoice: Invoice) -> str:
    return f"Waiting for payment of {invoice.number}"


def hold_reason(invoice: Invoice) -> str:
    return f"Fee unpaid ({invoice.number})"


def resume_if_paused_by(
    invoice: Invoice, records_request: RecordsRequest, actor: User | None
) -> bool:
    """Restart the request's clock when this invoice paused it and it is still paused for
    it (staff may have resumed and paused again for another reason): the days that remained
    when it was paused are kept (requests_portal.services.clock.request_resume)."""
    if not (
        invoice.paused_clock
        and records_request.is_paused
        and records_request.pause_reason == pause_reason(invoice)[:200]
    ):
        return False
    # A Stripe payment has no person behind it: the timeline entry names nobody (the clock
    # service accepts a missing actor for its entry and audit event).
    clock.request_resume(records_request=records_request, actor=cast(User, actor))
    return True


def unhold_if_held_by(
    invoice: Invoice, records_request: RecordsRequest, actor: User | None, why: str
) -> bool:
    if records_request.release_hold != hold_reason(invoice)[:200]:
        return False
    holds.release_unhold(records_request=records_request, actor=actor, why=why)
    return True
