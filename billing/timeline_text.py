"""Billing's public timeline entries in the reader's language (requests_portal.timeline_text
says the request's own entries; billing adds its kinds there from ``BillingConfig.ready``).

An entry is stored in English; for another language it is rebuilt from its data (the
invoice's number, the amounts in cents and their currency), and from the stored summary for
the parts staff typed (a void reason). An entry without the data it needs is shown as
stored."""

from __future__ import annotations

import re

from django.utils.translation import gettext

from billing.money import format_money
from requests_portal.models import TimelineEvent
from requests_portal.timeline_text import register_reader, register_reason

_NUMBER = r"(?P<number>INV-\d+-\d+)"


def _amount(event: TimelineEvent, key: str) -> str | None:
    cents = event.data.get(key)
    currency = event.data.get("currency")
    if isinstance(cents, bool) or not isinstance(cents, int) or not isinstance(currency, str):
        return None
    return format_money(cents, currency)


def _number(event: TimelineEvent, match: re.Match[str]) -> str:
    number = event.data.get("number")
    return number if isinstance(number, str) and number else match["number"]


def _sent(event: TimelineEvent, match: re.Match[str]) -> str | None:
    total = _amount(event, "total_cents")
    if total is None:
        return None
    values = {"number": _number(event, match), "total": total}
    if event.data.get("deposit_cents"):
        values["deposit"] = _amount(event, "deposit_cents") or ""
        return gettext("Invoice %(number)s sent: %(total)s; deposit due now %(deposit)s") % values
    return gettext("Invoice %(number)s sent: %(total)s") % values


def _payment(event: TimelineEvent, match: re.Match[str]) -> str | None:
    amount = _amount(event, "amount_cents")
    if amount is None:
        return None
    values = {"amount": amount, "number": _number(event, match)}
    if match["in_full"]:
        return gettext("Payment of %(amount)s received for %(number)s (paid in full)") % values
    return gettext("Payment of %(amount)s received for %(number)s") % values


def _refund(event: TimelineEvent, match: re.Match[str]) -> str | None:
    amount = _amount(event, "amount_cents")
    if amount is None:
        return None
    return gettext("Refund of %(amount)s on %(number)s") % {
        "amount": amount,
        "number": _number(event, match),
    }


def _voided(event: TimelineEvent, match: re.Match[str]) -> str:
    return gettext("Invoice %(number)s voided: %(reason)s") % {
        "number": _number(event, match),
        "reason": match["reason"],
    }


def _waiting(match: re.Match[str]) -> str:
    return gettext("Waiting for payment of %(number)s") % {"number": match["number"]}


def register() -> None:
    """Add billing's kinds to the timeline's readers (once, at start-up)."""
    register_reader(
        "invoice_sent",
        re.compile(rf"Invoice {_NUMBER} sent: .+"),
        _sent,
    )
    register_reader(
        "invoice_payment",
        re.compile(rf"Payment of .+ received for {_NUMBER}(?P<in_full> \(paid in full\))?"),
        _payment,
    )
    register_reader("invoice_refund", re.compile(rf"Refund of .+ on {_NUMBER}"), _refund)
    register_reader(
        "invoice_voided",
        re.compile(rf"Invoice {_NUMBER} voided: (?P<reason>.*)", re.S),
        _voided,
    )
    # The reason billing.services.common.pause_reason gives when a sent invoice pauses the clock.
    register_reason(re.compile(rf"Waiting for payment of {_NUMBER}"), _waiting)
