"""Audit event types of the billing app (label, category and sentence of each) and the
titles of its pages for the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.registry import Category, EventType, Sentence, category, register, register_page_titles

BILLING = category("billing", "Fees and payments", 65)


def _event(code: str, template: Sentence, label: str, group: Category = BILLING) -> EventType:
    return register(code, template, label=label, category=group)


def _money(ctx: Mapping[str, Any], key: str = "amount_cents") -> str:
    """Integer cents as dollars.cents ("12.50"), currency named in upper case."""
    try:
        cents = int(str(ctx.get(key, 0)))
    except ValueError:
        return "an amount"
    currency = str(ctx.get("currency", "")).upper()
    sign = "-" if cents < 0 else ""
    text = f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    return f"{text} {currency}".strip()


_FEE_CHANGES = {
    "schedule": "{actor} changed the fee schedule",
    "item_added": "{actor} added the fee “{name}”",
    "item_changed": "{actor} changed the fee “{name}”",
    "item_deactivated": "{actor} stopped offering the fee “{name}”",
    "item_reactivated": "{actor} offered the fee “{name}” again",
    "rate_set": "{actor} set the hourly rate of {who}",
    "rate_removed": "{actor} removed the hourly rate of {who}",
}


def _fees_changed(ctx: Mapping[str, Any]) -> str:
    template = _FEE_CHANGES.get(str(ctx.get("what")), "{actor} changed the fees")
    return template.format(
        actor=ctx["actor"], name=ctx.get("name", ""), who=ctx.get("who", "someone")
    )


_INVOICE_CHANGES = {
    "line_added": "{actor} added a line to invoice {number}",
    "line_removed": "{actor} removed a line from invoice {number}",
    "staff_time_added": "{actor} added staff time from the time log to invoice {number}",
    "deposit_set": "{actor} set the deposit of invoice {number}",
    "waiver_set": "{actor} waived fees on invoice {number}",
    "note_set": "{actor} changed the note of invoice {number}",
}


def _invoice_changed(ctx: Mapping[str, Any]) -> str:
    template = _INVOICE_CHANGES.get(str(ctx.get("what")), "{actor} changed invoice {number}")
    return template.format(actor=ctx["actor"], number=ctx.get("number", ""))


FEES_CHANGED = _event("billing.fees_changed", _fees_changed, "Changed the fees")
INVOICE_CREATED = _event(
    "billing.invoice_created",
    "{actor} started invoice {number} on {request}",
    "Started an invoice",
)
INVOICE_CHANGED = _event("billing.invoice_changed", _invoice_changed, "Changed a draft invoice")
INVOICE_SENT = _event(
    "billing.invoice_sent",
    lambda c: f"{c['actor']} sent invoice {c.get('number', '')} for {_money(c, 'total_cents')}",
    "Sent an invoice",
)
INVOICE_VOIDED = _event(
    "billing.invoice_voided", "{actor} voided invoice {number}: {reason}", "Voided an invoice"
)
PAYMENT_RECORDED = _event(
    "billing.payment_recorded",
    lambda c: (
        f"{c['actor']} recorded a payment of {_money(c)} ({c.get('method', '')}) "
        f"on invoice {c.get('number', '')}"
    ),
    "Recorded a payment",
)
REFUND_RECORDED = _event(
    "billing.refund_recorded",
    lambda c: f"{c['actor']} recorded a refund of {_money(c)} on invoice {c.get('number', '')}",
    "Recorded a refund",
)

register_page_titles(
    {
        "billing:fee_schedule": "the fee schedule",
        "billing:fee_item_new": "the form to add a fee",
        "billing:fee_item_edit": "the form to change a fee",
        "billing:fee_item_toggle": "the form to stop or resume offering a fee",
        "billing:staff_rate_new": "the form to set an hourly rate",
        "billing:staff_rate_remove": "the form to remove an hourly rate",
        "billing:invoice_new": "the form to start an invoice on request {number}",
        "billing:invoice_edit": "the invoice editor of invoice {invoice_id}",
        "billing:invoice_line_add": "the form to add a line to invoice {invoice_id}",
        "billing:invoice_line_remove": "the form to remove a line of invoice {invoice_id}",
        "billing:invoice_staff_time": "the form to bill staff time on invoice {invoice_id}",
        "billing:invoice_deposit": "the deposit form of invoice {invoice_id}",
        "billing:invoice_waiver": "the waiver form of invoice {invoice_id}",
        "billing:invoice_note": "the note form of invoice {invoice_id}",
        "billing:invoice_send": "the form to send invoice {invoice_id}",
        "billing:invoice_void": "the form to void invoice {invoice_id}",
        "billing:invoice_payment": "the form to record a payment on invoice {invoice_id}",
        "billing:invoice_page": "invoice {invoice_id}",
        "billing:invoice_pdf": "the PDF of invoice {invoice_id}",
    }
)
