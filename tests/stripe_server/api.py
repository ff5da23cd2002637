"""The API calls the local Stripe answers, on parsed parameters, as Stripe would: Checkout
sessions, PaymentIntents, charges and refunds, with the checks Stripe makes on their values."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

from tests.stripe_server.state import (
    CARD_OK,
    CURRENCIES,
    DECLINES,
    MAX_AMOUNT,
    MIN_AMOUNT,
    Account,
    Store,
    StripeError,
    new_id,
)

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding into nested values: ``a[b][0][c]=1`` → {"a": {"b": [{"c": "1"}]}}."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = raw_key.partition("[")
        parts = [head] + (_KEY_PART.findall("[" + rest) if rest else [])
        node: Any = root
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            following = None if last else parts[position + 1]
            child: Any = value if last else ([] if following in ("",) or _index(following) else {})
            if isinstance(node, list):
                index = len(node) if part == "" else int(part)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None or last:
                    node[index] = child
                node = node[index]
            else:
                if part not in node or last:
                    node[part] = child
                node = node[part]
    return root


def _index(part: str | None) -> bool:
    return part is not None and part.isdigit()


def _int(params: dict[str, Any], name: str, *, minimum: int = 0, maximum: int = MAX_AMOUNT) -> int:
    raw = params.get(name)
    if not isinstance(raw, str) or not re.fullmatch(r"-?[0-9]+", raw):
        raise StripeError(
            400, f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer"
        )
    value = int(raw)
    if value < minimum or value > maximum:
        raise StripeError(
            400, f"Invalid {name}: must be between {minimum} and {maximum}", param=name
        )
    return value


def _metadata(raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict) or len(raw) > 50:
        raise StripeError(400, "Invalid metadata", param="metadata")
    return {str(k): str(v)[:500] for k, v in raw.items()}


def _required(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise StripeError(
            400, f"Missing required param: {name}.", param=name, code="parameter_missing"
        )
    return params[name]


# --- Checkout sessions -----------------------------------------------------------------------


def create_session(store: Store, account: Account, params: dict[str, Any], base: str) -> dict:
    if _required(params, "mode") != "payment":
        raise StripeError(400, "This server only supports mode=payment.", param="mode")
    success_url = _required(params, "success_url")
    items = params.get("line_items")
    if not isinstance(items, list) or not items:
        raise StripeError(400, "Missing required param: line_items.", param="line_items")
    currency = None
    total = 0
    lines = []
    for n, item in enumerate(items):
        prefix = f"line_items[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("price_data"), dict):
            raise StripeError(400, f"{prefix}[price_data] is required", param=prefix)
        price = item["price_data"]
        item_currency = str(price.get("currency", "")).lower()
        if item_currency not in CURRENCIES:
            raise StripeError(
                400, f"Invalid currency: {item_currency}", param=f"{prefix}[price_data][currency]"
            )
        if currency not in (None, item_currency):
            raise StripeError(400, "All line items must use the same currency.", param=prefix)
        currency = item_currency
        unit = _int(price, "unit_amount")
        quantity = _int(item, "quantity", minimum=1, maximum=999_999)
        name = (
            (price.get("product_data") or {}).get("name")
            if isinstance(price.get("product_data"), dict)
            else None
        )
        if not name:
            raise StripeError(
                400, f"Missing required param: {prefix}[price_data][product_data][name]."
            )
        total += unit * quantity
        lines.append({"description": name, "quantity": quantity, "amount_total": unit * quantity})
    if total < MIN_AMOUNT:
        raise StripeError(
            400,
            f"The Checkout Session's total amount due must add up to at least $0.50 {currency}",
            code="amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise StripeError(400, "Amount must be no more than $999,999.99", code="amount_too_large")
    now = int(time.time())
    expires_at = (
        _int(params, "expires_at", minimum=now + 1800, maximum=now + 86400)
        if params.get("expires_at")
        else now + 86400
    )
    session_id = new_id("cs_test")
    intent_data = (
        params.get("payment_intent_data")
        if isinstance(params.get("payment_intent_data"), dict)
        else {}
    )
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "cancel_url": params.get("cancel_url") or None,
        "client_reference_id": params.get("client_reference_id") or None,
        "created": now,
        "currency": currency,
        "customer_email": params.get("customer_email") or None,
        "expires_at": expires_at,
        "livemode": False,
        "metadata": _metadata(params.get("metadata")),
        "mode": "payment",
        "payment_intent": None,
        "payment_status": "unpaid",
        "status": "open",
        "success_url": success_url,
        "url": f"{base}/c/pay/{session_id}",
        "_lines": lines,
        "_intent_metadata": _metadata(intent_data.get("metadata")),
    }
    return store.put(account, session)


def session_state(store: Store, account: Account, session_id: str) -> dict[str, Any]:
    """The session, expired first when its time is up."""
    session = store.get(account, "checkout.session", session_id)
    if session["status"] == "open" and session["expires_at"] <= time.time():
        store.update(session, status="expired")
        store.emit(account, "checkout.session.expired", session)
    return session


def expire_session(store: Store, account: Account, session_id: str) -> dict[str, Any]:
    session = session_state(store, account, session_id)
    if session["status"] != "open":
        raise StripeError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
        )
    public = store.update(session, status="expired")
    store.emit(account, "checkout.session.expired", session)
    return public


def pay_session(
    store: Store, account: Account, session: dict[str, Any], card: str, expiry: str, cvc: str
) -> str:
    """The hosted page's "Pay": '' when paid, else the message the page shows."""
    number = re.sub(r"[\s-]", "", card)
    if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn(number):
        return "Your card number is invalid."
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry)
    if not match or not 1 <= int(match[1]) <= 12:
        return "Your card's expiration date is incomplete."
    year = int(match[2]) % 100 + 2000
    if (year, int(match[1])) < time.gmtime()[:2]:
        return "Your card's expiration year is in the past."
    if not re.fullmatch(r"\d{3,4}", cvc.strip()):
        return "Your card's security code is incomplete."
    with store.lock:
        if session["status"] != "open":
            return "This Checkout Session is no longer active."
        intent = _intent_for(store, account, session)
        declined = DECLINES.get(number)
        if number != CARD_OK:
            code, reason, message = declined or (
                "card_declined",
                "generic_decline",
                "Your card was declined.",
            )
            store.update(
                intent,
                status="requires_payment_method",
                last_payment_error={"code": code, "decline_code": reason, "message": message},
            )
            store.emit(account, "payment_intent.payment_failed", intent)
            return message
        charge = store.put(
            account,
            {
                "id": new_id("ch"),
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"],
                "amount_refunded": 0,
                "created": int(time.time()),
                "currency": intent["currency"],
                "livemode": False,
                "metadata": intent["metadata"],
                "paid": True,
                "payment_intent": intent["id"],
                "payment_method_details": {"type": "card", "card": {"last4": number[-4:]}},
                "refunded": False,
                "status": "succeeded",
            },
        )
        store.update(
            intent,
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
        )
        store.update(session, status="complete", payment_status="paid")
        store.emit(account, "charge.succeeded", store.get(account, "charge", charge["id"]))
        store.emit(account, "payment_intent.succeeded", intent)
        store.emit(account, "checkout.session.completed", session)
    return ""


def _intent_for(store: Store, account: Account, session: dict[str, Any]) -> dict[str, Any]:
    if session.get("payment_intent"):
        return store.get(account, "payment_intent", session["payment_intent"])
    intent = store.put(
        account,
        {
            "id": new_id("pi"),
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_received": 0,
            "created": int(time.time()),
            "currency": session["currency"],
            "latest_charge": None,
            "last_payment_error": None,
            "livemode": False,
            "metadata": session["_intent_metadata"],
            "payment_method_types": ["card"],
            "status": "requires_payment_method",
        },
    )
    store.update(session, payment_intent=intent["id"])
    return store.get(account, "payment_intent", intent["id"])


def _luhn(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# --- Refunds ---------------------------------------------------------------------------------


def create_refund(store: Store, account: Account, params: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        if params.get("payment_intent"):
            intent = store.get(account, "payment_intent", params["payment_intent"])
            if not intent.get("latest_charge"):
                raise StripeError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                    "to refund.",
                    code="charge_not_refundable",
                )
            charge = store.get(account, "charge", intent["latest_charge"])
        elif params.get("charge"):
            charge = store.get(account, "charge", params["charge"])
        else:
            raise StripeError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params, "amount", minimum=1) if params.get("amount") else remaining
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large",
                param="amount",
            )
        refund = store.put(
            account,
            {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "metadata": _metadata(params.get("metadata")),
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason") or None,
                "status": "succeeded",
            },
        )
        refunded = charge["amount_refunded"] + amount
        store.update(charge, amount_refunded=refunded, refunded=refunded >= charge["amount"])
        store.emit(account, "refund.created", refund)
        store.emit(account, "charge.refunded", charge)
    return refund


def list_refunds(store: Store, account: Account, query: dict[str, Any]) -> dict[str, Any]:
    where = {k: query[k] for k in ("payment_intent", "charge") if query.get(k)}
    data = sorted(store.find(account, "refund", **where), key=lambda r: r["created"], reverse=True)
    return {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"}
