"""Billing on the request pages of requests_portal (which knows nothing of billing: its
templates load these tags), and the filter that shows integer cents as money."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import policy
from billing import access
from billing.models import ACTIVE_STATUSES, InvoiceStatus
from billing.money import format_money, format_plain
from requests_portal import access as request_access
from requests_portal.access import PublicView

register = template.Library()


@register.filter
def money(cents: Any, currency: str = "usd") -> str:
    """1250|money:"usd" → "$12.50" (integer cents only; anything else shows as it is)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        return "" if cents is None else str(cents)
    return format_money(cents, currency)


@register.filter
def percent(bps: Any) -> str:
    """Basis points as a percentage: 1250 → "12.50 %"."""
    if isinstance(bps, bool) or not isinstance(bps, int):
        return ""
    return f"{format_plain(bps)} %"


@register.inclusion_tag("billing/_staff_panel.html", takes_context=True)
def staff_invoice_panel(context: template.Context, records_request: Any) -> dict[str, Any]:
    request = context["request"]
    found = list(access.invoices_for_request(request.user, request.agency, records_request))
    return {
        "r": records_request,
        "invoices": found,
        "has_active": any(invoice.status in ACTIVE_STATUSES for invoice in found),
        "can_invoice": request_access.can_act_on(
            request.user, request.agency, records_request, policy.REQUEST_INVOICE
        ),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag("billing/_resident_panel.html", takes_context=True)
def resident_invoice_panel(
    context: template.Context, records_request: Any, viewer: str, tracking: str = ""
) -> dict[str, Any]:
    """The requester's invoices on their request page (the public sees nothing)."""
    view = PublicView(records_request, request_access.Viewer(viewer), tracking)
    found = access.requester_invoices(view)
    owed = [i for i in found if i.status in (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)]
    return {
        "r": records_request,
        "invoices": found,
        "owed": owed,
        "tracking": tracking,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
