"""Amounts as people type and read them. Money is integer cents everywhere; this module is
the one place text becomes cents ("12.50" → 1250) and cents become text ("$12.50"), by
string arithmetic only: no float or Decimal ever holds an amount."""

from __future__ import annotations

import re

from billing.models import MAX_AMOUNT_CENTS

_AMOUNT = re.compile(r"(?P<whole>\d{1,9})(?:\.(?P<cents>\d{1,2}))?")
_SYMBOLS = {"usd": "$", "cad": "CA$"}


class AmountError(ValueError):
    """The text is not an amount the portal takes; the message says why, for the form."""


def parse_cents(text: str, *, allow_zero: bool = True, maximum: int = MAX_AMOUNT_CENTS) -> int:
    """ "12.50" → 1250, "12" → 1200, "12.5" → 1250, "$1,200.00" → 120000. Refuses negative
    amounts, more than two decimals, anything that is not a number, and more than
    ``maximum`` cents ($100,000 by default)."""
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    if cleaned.startswith("$"):
        cleaned = cleaned[1:]
    if cleaned.startswith("-"):
        raise AmountError("Enter an amount that is not negative.")
    if re.fullmatch(r"\d*\.\d{3,}", cleaned):
        raise AmountError("Enter dollars and cents, with at most two decimals (12.50).")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError("Enter an amount in dollars and cents, like 12.50.")
    cents_text = (match["cents"] or "").ljust(2, "0")
    cents = int(match["whole"]) * 100 + int(cents_text or "0")
    if cents > maximum:
        raise AmountError(f"Enter at most {format_plain(maximum)}.")
    if cents == 0 and not allow_zero:
        raise AmountError("Enter an amount above zero.")
    return cents


def format_plain(cents: int) -> str:
    """1250 → "12.50", -300 → "-3.00", 123456 → "1,234.56" (no currency)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{rest:02d}"


def format_input(cents: int) -> str:
    """1250 → "12.50": what a form field shows (no thousands separator)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{rest:02d}"


def format_money(cents: int, currency: str = "usd") -> str:
    """1250, "usd" → "$12.50"; -300 → "-$3.00"."""
    symbol = _SYMBOLS.get((currency or "").lower(), (currency or "").upper() + " ")
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{symbol}{whole:,}.{rest:02d}"


def parse_percent_bps(text: str) -> int:
    """ "12.5" (per cent) → 1250 basis points; at most 100 %, two decimals."""
    cleaned = (text or "").strip().rstrip("%").strip()
    if cleaned.startswith("-"):
        raise AmountError("Enter a percentage that is not negative.")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError("Enter a percentage, like 10 or 12.5.")
    bps = int(match["whole"]) * 100 + int((match["cents"] or "").ljust(2, "0") or "0")
    if bps > 10_000:
        raise AmountError("Enter at most 100 %.")
    return bps


def percent_of(amount_cents: int, bps: int) -> int:
    """``bps`` basis points of ``amount_cents``, rounded half up (away from zero for a
    negative base): integer arithmetic only."""
    sign = -1 if amount_cents < 0 else 1
    return sign * ((abs(amount_cents) * bps + 5_000) // 10_000)
