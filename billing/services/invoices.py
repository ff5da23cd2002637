"""Invoices on a request: a draft is built (lines of every kind, staff time from the request's
time log, a deposit, a waiver), sent (numbered, emailed, the clock paused and the records
held when the agency's schedule says so), and voided with a reason. A sent invoice is never
edited: void it and issue a new one.

Totals are the services' to keep, never typed: after every change of a draft the lines are
recomputed in order (free pages and free minutes applied once per invoice, percentages of
the lines above rounded half up), then subtotal, total (subtotal less the waiver) and the
deposit. Integer cents throughout.

Every change locks the request's row first, then the invoice's (billing.services.common),
and leaves a timeline entry (public once the invoice was sent) and an audit event in its
transaction."""

from __future__ import annotations

from collections import defaultdict

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts.models import Membership, User
from billing import access, audit_events
from billing.errors import BillingError
from billing.models import (
    MAX_AMOUNT_CENTS,
    BilledTime,
    FeeItem,
    FeeSchedule,
    Invoice,
    InvoiceLine,
    LineKind,
)
from billing.money import format_money, format_plain, percent_of
from billing.services.common import (
    DRAFT_YEAR,
    check_amount,
    invoice_label,
    lock_invoice,
    next_sequence,
    record_event,
    require_draft,
)
from requests_portal.models import RecordsRequest, TimeEntry
from requests_portal.services.changes import _lock, add_timeline_event

PAGE_KINDS = (LineKind.PAGES_PAPER, LineKind.PAGES_ELECTRONIC)
# Kinds a person adds with the line form (staff time comes from the time log).
TYPED_KINDS = (
    LineKind.PAGES_PAPER,
    LineKind.PAGES_ELECTRONIC,
    LineKind.MEDIA,
    LineKind.FIXED,
    LineKind.CUSTOM,
    LineKind.PERCENT,
    LineKind.DISCOUNT,
)
MAX_QUANTITY = 1_000_000
MAX_LINES = 100


# --- Totals ------------------------------------------------------------------------------------


def _staff_time_amount(minutes: int, hourly_cents: int) -> int:
    """Minutes at an hourly rate, to the cent, half up."""
    return (minutes * hourly_cents + 30) // 60


def recompute(invoice: Invoice, schedule: FeeSchedule) -> None:
    """Every line's amount and the invoice's totals from its lines (call under the lock).
    Refuses (BillingError) totals outside the portal's bounds: the caller's transaction then
    keeps nothing of the change."""
    free_pages = schedule.free_pages
    free_minutes = schedule.free_minutes
    running = 0
    lines = list(InvoiceLine.objects.filter(agency=invoice.agency_id, invoice=invoice))
    for line in lines:
        free = 0
        if line.kind in PAGE_KINDS:
            free = min(free_pages, line.quantity)
            free_pages -= free
            amount = (line.quantity - free) * line.unit_cents
        elif line.kind == LineKind.STAFF_TIME:
            free = min(free_minutes, line.quantity)
            free_minutes -= free
            amount = _staff_time_amount(line.quantity - free, line.unit_cents)
        elif line.kind == LineKind.PERCENT:
            amount = percent_of(running, line.percent_bps)
        elif line.kind == LineKind.DISCOUNT:
            amount = -(line.quantity * line.unit_cents)
        else:
            amount = line.quantity * line.unit_cents
        if abs(amount) > MAX_AMOUNT_CENTS:
            raise BillingError(f"A line cannot come to more than {format_plain(MAX_AMOUNT_CENTS)}.")
        if amount != line.amount_cents or free != line.free_quantity:
            line.amount_cents, line.free_quantity = amount, free
            line.save(update_fields=["amount_cents", "free_quantity"])
        running += amount
    if running < 0:
        raise BillingError("The discounts come to more than the lines above them.")
    if running > MAX_AMOUNT_CENTS:
        raise BillingError(f"An invoice cannot come to more than {format_plain(MAX_AMOUNT_CENTS)}.")
    old_total = invoice.total_cents
    invoice.subtotal_cents = running
    invoice.waived_cents = min(invoice.waived_cents, running)
    if not invoice.waived_cents:
        invoice.waiver_reason = ""
    invoice.total_cents = running - invoice.waived_cents
    # A deposit still at the schedule's share follows the total; one staff typed is kept
    # (never above the total).
    share = schedule.default_deposit_bps
    if invoice.deposit_cents == percent_of(old_total, share):
        invoice.deposit_cents = percent_of(invoice.total_cents, share)
    invoice.deposit_cents = min(invoice.deposit_cents, invoice.total_cents)
    invoice.save()


def _draft_changed(
    invoice: Invoice,
    actor: User,
    what: str,
    summary: str,
    http_request: HttpRequest | None,
    **details: object,
) -> None:
    """After a change of a draft: the totals, the staff timeline, the audit event."""
    recompute(invoice, access.fee_schedule(invoice.request.agency))
    add_timeline_event(
        invoice.request,
        "invoice_changed",
        actor,
        summary,
        public=False,
        data={"invoice": invoice.pk, "what": what},
    )
    record_event(
        audit_events.INVOICE_CHANGED,
        invoice,
        actor,
        http_request,
        what=what,
        total_cents=invoice.total_cents,
        currency=invoice.currency,
        **details,
    )


# --- Creating and building a draft ----------------------------------------------------------------


def invoice_create(
    *,
    records_request: RecordsRequest,
    actor: User,
    note: str = "",
    http_request: HttpRequest | None = None,
) -> Invoice:
    """A draft invoice on the request: one active invoice (a draft or one still owed) at a
    time; the deposit starts at the schedule's share."""
    with transaction.atomic():
        _lock(records_request)
        current = access.active_invoice(records_request)
        if current is not None:
            raise BillingError(
                f"Request {records_request.number} already has an open invoice "
                f"({invoice_label(current)}): finish or void it before starting another."
            )
        schedule = access.fee_schedule(records_request.agency)
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    agency=records_request.agency,
                    request=records_request,
                    year=DRAFT_YEAR,
                    sequence=next_sequence(records_request.agency_id, DRAFT_YEAR),
                    currency=schedule.currency,
                    note=note.strip()[:2000],
                    created_by=actor,
                )
        except IntegrityError:
            # The partial unique index (one active invoice per request) as a backstop.
            raise BillingError(
                f"Request {records_request.number} already has an open invoice."
            ) from None
        invoice.request = records_request
        add_timeline_event(
            records_request,
            "invoice_created",
            actor,
            "Draft invoice started",
            public=False,
            data={"invoice": invoice.pk},
        )
        record_event(audit_events.INVOICE_CREATED, invoice, actor, http_request)
    return invoice


def _next_position(invoice: Invoice) -> int:
    last = (
        InvoiceLine.objects.filter(agency=invoice.agency_id, invoice=invoice)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    return (last or 0) + 1


def _check_room(invoice: Invoice, adding: int = 1) -> None:
    count = InvoiceLine.objects.filter(agency=invoice.agency_id, invoice=invoice).count()
    if count + adding > MAX_LINES:
        raise BillingError(f"An invoice holds at most {MAX_LINES} lines.")


def _check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BillingError("The quantity must be a whole number.")
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise BillingError(f"The quantity must be between 1 and {MAX_QUANTITY:,}.")
    return quantity


def _fee_item(invoice: Invoice, fee_item: FeeItem | None, kind: str) -> FeeItem:
    if fee_item is None or fee_item.agency_id != invoice.agency_id or not fee_item.is_active:
        raise BillingError("Choose one of the agency's fees.")
    if fee_item.kind != kind:
        raise BillingError(f"“{fee_item.name}” is not a fee of that kind.")
    return fee_item


def invoice_line_add(
    *,
    invoice: Invoice,
    actor: User,
    kind: str,
    description: str = "",
    quantity: int = 1,
    unit_cents: int | None = None,
    percent_bps: int = 0,
    fee_item: FeeItem | None = None,
    http_request: HttpRequest | None = None,
) -> InvoiceLine:
    """Add a line to a draft. Pages take the schedule's page rate (free pages applied on the
    invoice as a whole); media and fixed fees come from the agency's fee items (a fixed fee
    may also be typed); "other" is quantity times a typed unit; a percentage is of the lines
    above it; a discount takes off a typed amount."""
    if kind not in TYPED_KINDS:
        raise BillingError("Choose what kind of line to add.")
    quantity = _check_quantity(quantity)
    description = (description or "").strip()[:200]
    with transaction.atomic():
        _, invoice = lock_invoice(invoice)
        require_draft(invoice)
        _check_room(invoice)
        schedule = access.fee_schedule(invoice.request.agency)
        bps = 0
        if kind in PAGE_KINDS:
            unit = (
                schedule.paper_page_cents
                if kind == LineKind.PAGES_PAPER
                else schedule.electronic_page_cents
            )
            if unit_cents is not None:
                unit = check_amount(unit_cents, "The price per page", allow_zero=True)
            label = "Paper copies" if kind == LineKind.PAGES_PAPER else "Electronic pages"
            description = description or f"{label}: {quantity:,} pages"
        elif kind == LineKind.MEDIA or (kind == LineKind.FIXED and fee_item is not None):
            item = _fee_item(invoice, fee_item, kind)
            unit = item.unit_cents
            description = description or item.name
        elif kind == LineKind.PERCENT:
            if isinstance(percent_bps, bool) or not isinstance(percent_bps, int):
                raise BillingError("The percentage must be a number.")
            if not 0 < percent_bps <= 10_000:
                raise BillingError("The percentage must be above 0 and at most 100.")
            bps, unit, quantity = percent_bps, 0, 1
            description = description or f"{format_plain(percent_bps)} % of the lines above"
        else:
            unit = check_amount(unit_cents if unit_cents is not None else 0, "The amount")
        if not description:
            raise BillingError("Describe the line.")
        if quantity * unit > MAX_AMOUNT_CENTS:
            raise BillingError(f"A line cannot come to more than {format_plain(MAX_AMOUNT_CENTS)}.")
        line = InvoiceLine.objects.create(
            agency=invoice.agency,
            invoice=invoice,
            position=_next_position(invoice),
            kind=kind,
            description=description,
            quantity=quantity,
            unit_cents=unit,
            percent_bps=bps,
            amount_cents=0,
        )
        _draft_changed(
            invoice,
            actor,
            "line_added",
            f"Line added to {invoice_label(invoice)}: {description}",
            http_request,
            line=line.pk,
            kind=kind,
        )
        line.refresh_from_db()
    return line


def invoice_line_remove(
    *, invoice: Invoice, actor: User, line_id: int, http_request: HttpRequest | None = None
) -> None:
    """Take a line off a draft (its time entries may be billed again)."""
    with transaction.atomic():
        _, invoice = lock_invoice(invoice)
        require_draft(invoice)
        line = InvoiceLine.objects.filter(
            agency=invoice.agency_id, invoice=invoice, pk=line_id
        ).first()
        if line is None:
            raise BillingError("That line is no longer on the invoice.")
        description = line.description
        line.delete()
        _draft_changed(
            invoice,
            actor,
            "line_removed",
            f"Line removed from {invoice_label(invoice)}: {description}",
            http_request,
            line=line_id,
        )


def _hourly_rate(
    user_id: int,
    by_user: dict[int, int],
    by_role: dict[str, int],
    roles: dict[int, str],
    default: int,
) -> int:
    """A person's own rate, else their role's, else the schedule's default."""
    if user_id in by_user:
        return by_user[user_id]
    role = roles.get(user_id)
    if role is not None and role in by_role:
        return by_role[role]
    return default


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def invoice_add_staff_time(
    *, invoice: Invoice, actor: User, http_request: HttpRequest | None = None
) -> list[InvoiceLine]:
    """Bill the request's unbilled time entries: one line per person, their minutes at their
    hourly rate (their own, else their role's, else the schedule's default). The free minutes
    of the schedule are taken off once per invoice. An entry billed on an invoice that is not
    void is never billed again."""
    with transaction.atomic():
        records_request, invoice = lock_invoice(invoice)
        require_draft(invoice)
        entries = list(access.unbilled_time_entries(records_request))
        if not entries:
            raise BillingError("No time logged on this request is left to bill.")
        by_person: dict[int, list[TimeEntry]] = defaultdict(list)
        for entry in entries:
            by_person[entry.user_id].append(entry)
        _check_room(invoice, len(by_person))
        agency = records_request.agency
        schedule = access.fee_schedule(agency)
        by_user, by_role = access.rate_table(agency)
        roles = dict(
            Membership.objects.filter(agency=agency, user_id__in=list(by_person)).values_list(
                "user_id", "role"
            )
        )
        lines = []
        position = _next_position(invoice)
        for user_id, own in by_person.items():
            person = own[0].user
            minutes = sum(entry.minutes for entry in own)
            if minutes > MAX_QUANTITY:
                raise BillingError("That is more time than one invoice can bill.")
            rate = _hourly_rate(user_id, by_user, by_role, roles, schedule.default_hourly_cents)
            name = person.full_name or person.email
            line = InvoiceLine.objects.create(
                agency=agency,
                invoice=invoice,
                position=position,
                kind=LineKind.STAFF_TIME,
                description=f"Staff time: {name}, {_duration(minutes)}"[:200],
                quantity=minutes,
                unit_cents=rate,
                amount_cents=0,
                staff=person,
            )
            BilledTime.objects.bulk_create(
                [BilledTime(agency=agency, line=line, time_entry=entry) for entry in own]
            )
            position += 1
            lines.append(line)
        _draft_changed(
            invoice,
            actor,
            "staff_time_added",
            f"Staff time from the time log added to {invoice_label(invoice)}",
            http_request,
            entries=len(entries),
            minutes=sum(entry.minutes for entry in entries),
        )
    return lines


def invoice_set_deposit(
    *,
    invoice: Invoice,
    actor: User,
    deposit_cents: int,
    http_request: HttpRequest | None = None,
) -> None:
    """What is due before work starts (0: no deposit); at most the total."""
    deposit_cents = check_amount(deposit_cents, "The deposit", allow_zero=True)
    with transaction.atomic():
        _, invoice = lock_invoice(invoice)
        require_draft(invoice)
        if deposit_cents > invoice.total_cents:
            raise BillingError("The deposit cannot be more than the invoice's total.")
        invoice.deposit_cents = deposit_cents
        invoice.save(update_fields=["deposit_cents", "updated_at"])
        _draft_changed(
            invoice,
            actor,
            "deposit_set",
            f"Deposit of {invoice_label(invoice)} set to "
            f"{format_money(deposit_cents, invoice.currency)}",
            http_request,
            deposit_cents=deposit_cents,
        )


def invoice_set_waiver(
    *,
    invoice: Invoice,
    actor: User,
    waived_cents: int,
    reason: str,
    http_request: HttpRequest | None = None,
) -> None:
    """Waive part or all of the fees, with the reason (0 takes the waiver off). The total is
    the subtotal less what is waived."""
    waived_cents = check_amount(waived_cents, "The amount waived", allow_zero=True)
    reason = (reason or "").strip()[:1000]
    if waived_cents and not reason:
        raise BillingError("Give the reason for the waiver.")
    with transaction.atomic():
        _, invoice = lock_invoice(invoice)
        require_draft(invoice)
        if waived_cents > invoice.subtotal_cents:
            raise BillingError("The amount waived cannot be more than the subtotal.")
        invoice.waived_cents = waived_cents
        invoice.waiver_reason = reason if waived_cents else ""
        invoice.save(update_fields=["waived_cents", "waiver_reason", "updated_at"])
        _draft_changed(
            invoice,
            actor,
            "waiver_set",
            f"{format_money(waived_cents, invoice.currency)} waived on "
            f"{invoice_label(invoice)}: {reason}"
            if waived_cents
            else f"Waiver taken off {invoice_label(invoice)}",
            http_request,
            waived_cents=waived_cents,
            reason=reason,
        )


def invoice_set_note(
    *, invoice: Invoice, actor: User, note: str, http_request: HttpRequest | None = None
) -> None:
    """The note the requester reads on the invoice."""
    with transaction.atomic():
        _, invoice = lock_invoice(invoice)
        require_draft(invoice)
        invoice.note = (note or "").strip()[:2000]
        invoice.save(update_fields=["note", "updated_at"])
        _draft_changed(
            invoice, actor, "note_set", f"Note of {invoice_label(invoice)} changed", http_request
        )
