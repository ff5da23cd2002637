"""The invoice as a PDF (reportlab): the agency's name and contact, the request, the lines,
the totals (waiver, deposit, paid, balance), dates on the agency's calendar. Amounts are the
stored integer cents, formatted with the invoice's currency; nothing is computed here."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from accounts.contact import contact_of
from accounts.local_time import agency_zone, format_date
from billing.models import Invoice, InvoiceLine, InvoiceStatus, Payment
from billing.money import format_money

_LEFT = 0.75 * inch
_RIGHT = LETTER[0] - 0.75 * inch
_TOP = LETTER[1] - 0.75 * inch
_BOTTOM = 0.9 * inch


class _Writer:
    """Lines of text down the page, a new page when one is full."""

    def __init__(self, title: str) -> None:
        self.buffer = io.BytesIO()
        self.pdf = canvas.Canvas(self.buffer, pagesize=LETTER, pageCompression=1)
        self.pdf.setTitle(title)
        self.pdf.setAuthor("")
        self.y = _TOP

    def need(self, height: float) -> None:
        if self.y - height < _BOTTOM:
            self.pdf.showPage()
            self.y = _TOP

    def text(self, value: str, *, size: int = 10, bold: bool = False, gap: float = 14) -> None:
        self.need(gap)
        self.pdf.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.pdf.drawString(_LEFT, self.y, value[:110])
        self.y -= gap

    def row(self, cells: Sequence[str], *, bold: bool = False) -> None:
        """Description, quantity, unit, amount (the numbers right-aligned)."""
        self.need(14)
        self.pdf.setFont("Helvetica-Bold" if bold else "Helvetica", 9)
        description, quantity, unit, amount = cells
        self.pdf.drawString(_LEFT, self.y, description[:70])
        self.pdf.drawRightString(_RIGHT - 2.6 * inch, self.y, quantity)
        self.pdf.drawRightString(_RIGHT - 1.3 * inch, self.y, unit)
        self.pdf.drawRightString(_RIGHT, self.y, amount)
        self.y -= 14

    def total(self, label: str, value: str, *, bold: bool = False) -> None:
        self.need(14)
        self.pdf.setFont("Helvetica-Bold" if bold else "Helvetica", 10)
        self.pdf.drawRightString(_RIGHT - 1.3 * inch, self.y, label)
        self.pdf.drawRightString(_RIGHT, self.y, value)
        self.y -= 14

    def rule(self) -> None:
        self.need(8)
        self.pdf.line(_LEFT, self.y + 10, _RIGHT, self.y + 10)
        self.y -= 4

    def finish(self) -> bytes:
        self.pdf.showPage()
        self.pdf.save()
        return self.buffer.getvalue()


def _quantity(line: InvoiceLine) -> str:
    if line.kind == "percent":
        whole, rest = divmod(line.percent_bps, 100)
        return f"{whole}.{rest:02d} %"
    if line.kind == "staff_time":
        text = _("%(minutes)s min") % {"minutes": f"{line.quantity:,}"}
        if line.free_quantity:
            text += " " + _("(%(free)s min free)") % {"free": f"{line.free_quantity:,}"}
        return text
    if line.free_quantity:
        return f"{line.quantity:,} " + _("(%(free)s free)") % {"free": f"{line.free_quantity:,}"}
    return f"{line.quantity:,}"


def invoice_pdf(
    invoice: Invoice, lines: Sequence[InvoiceLine], payments: Sequence[Payment]
) -> bytes:
    """The PDF of one invoice (the caller read it, its lines and payments, through
    billing.access)."""
    agency = invoice.request.agency
    zone = agency_zone(agency)
    currency = invoice.currency

    def money(cents: int) -> str:
        return format_money(cents, currency)

    number = invoice.number if invoice.status != InvoiceStatus.DRAFT else _("Draft invoice")
    out = _Writer(f"{agency.name} {number}")
    contact = contact_of(agency)
    out.text(contact.name, size=16, bold=True, gap=20)
    for part in (contact.address, contact.phone, contact.email):
        for piece in (part or "").splitlines():
            out.text(piece, size=9, gap=12)
    out.y -= 10
    out.text(_("Invoice %(number)s") % {"number": number}, size=14, bold=True, gap=18)
    out.text(_("Status: %(status)s") % {"status": invoice.get_status_display()}, size=9)
    records_request = invoice.request
    out.text(
        _("Request %(number)s: %(title)s")
        % {"number": records_request.number, "title": records_request.title},
        size=9,
    )
    if records_request.requester_name:
        out.text(_("Billed to: %(name)s") % {"name": records_request.requester_name}, size=9)
    if invoice.sent_at:
        out.text(_("Sent: %(day)s") % {"day": format_date(invoice.sent_at, zone=zone)}, size=9)
    if invoice.paid_at:
        out.text(_("Paid: %(day)s") % {"day": format_date(invoice.paid_at, zone=zone)}, size=9)
    out.y -= 10
    out.row([_("Description"), _("Quantity"), _("Unit"), _("Amount")], bold=True)
    out.rule()
    for line in lines:
        unit = money(line.unit_cents) if line.kind != "percent" else ""
        out.row([line.description, _quantity(line), unit, money(line.amount_cents)])
    out.rule()
    out.total(_("Subtotal"), money(invoice.subtotal_cents))
    if invoice.waived_cents:
        out.total(_("Waived"), money(-invoice.waived_cents))
    out.total(_("Total"), money(invoice.total_cents), bold=True)
    if invoice.deposit_cents:
        out.total(_("Deposit due before work starts"), money(invoice.deposit_cents))
    out.total(_("Paid"), money(invoice.paid_cents))
    if invoice.refunded_cents:
        out.total(_("Refunded"), money(invoice.refunded_cents))
    out.total(_("Balance"), money(invoice.balance_cents), bold=True)
    if invoice.waived_cents and invoice.waiver_reason:
        out.y -= 6
        out.text(_("Waiver: %(reason)s") % {"reason": invoice.waiver_reason}, size=9)
    if payments:
        out.y -= 6
        out.text(_("Payments"), bold=True)
        for payment in payments:
            out.text(
                f"{format_date(payment.received_at, zone=zone)}  "
                f"{payment.get_method_display()}  {money(payment.amount_cents)}",
                size=9,
            )
    if invoice.note:
        out.y -= 6
        for piece in invoice.note.splitlines()[:30]:
            out.text(piece, size=9, gap=12)
    if invoice.status == InvoiceStatus.VOID:
        out.y -= 6
        out.text(_("This invoice is void: %(reason)s") % {"reason": invoice.void_reason}, bold=True)
    return out.finish()
