"""``{% pay_by_card invoice tracking %}``: the requester's "Pay $X by card" button (when the
invoice is owed and the agency takes cards); ``{% refund_form invoice %}``: the staff's
refund form under an invoice's payments (when they may refund and something is left)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import policy
from billing import access, stripe_access
from billing.models import Invoice, InvoiceStatus
from billing.money import format_money

register = template.Library()


@register.inclusion_tag("billing/_pay_form.html", takes_context=True)
def pay_by_card(context: template.Context, invoice: Invoice, tracking: str = "") -> dict[str, Any]:
    owed = invoice.status in (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)
    due = invoice.due_now_cents if owed else 0
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "invoice": invoice,
        "tracking": tracking,
        "show": due > 0 and stripe_access.takes_cards(invoice.agency),
        "due": format_money(due, invoice.currency),
        "is_deposit": owed and due < invoice.balance_cents,
    }


@register.inclusion_tag("billing/_refund_form.html", takes_context=True)
def refund_form(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    agency = getattr(request, "agency", None)
    payments = []
    if user is not None and agency is not None and policy.can(user, agency, policy.REQUEST_INVOICE):
        payments = [
            p for p in access.invoice_payments(invoice) if p.amount_cents > p.refunded_cents
        ]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "invoice": invoice,
        "payments": [
            {
                "pk": p.pk,
                "label": f"{p.get_method_display()} "
                f"{format_money(p.amount_cents, invoice.currency)}",
                "left": format_money(p.amount_cents - p.refunded_cents, invoice.currency),
                "is_card": bool(p.stripe_payment_intent),
            }
            for p in payments
        ],
    }
