"""The local Stripe's memory: accounts, their keys, the objects the API created, idempotent
answers, and the events it signed. Everything is guarded by one lock; nothing is persisted
(a restart forgets all but what ``/_control/accounts`` registers again)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

API_VERSION = "2025-09-30.clover"
# Stripe's smallest and largest charge in cents (USD and CAD alike).
MIN_AMOUNT = 50
MAX_AMOUNT = 99_999_999
CURRENCIES = {"usd", "cad", "eur", "gbp"}

# Test cards (https://docs.stripe.com/testing), the ones this server knows.
CARD_OK = "4242424242424242"
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
}


class StripeError(Exception):
    """An error answer: HTTP status and Stripe's error object."""

    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, **extra}}


def missing(kind: str, object_id: str) -> StripeError:
    return StripeError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param="id",
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header of ``payload``: HMAC-SHA256 of "<t>.<payload>"."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Account:
    id: str
    display_name: str = "Test business"
    webhook_url: str = ""
    webhook_secret: str = ""
    default_currency: str = "usd"
    country: str = "US"
    email: str = ""

    def as_stripe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "account",
            "business_profile": {"name": self.display_name, "url": None},
            "charges_enabled": True,
            "country": self.country,
            "default_currency": self.default_currency,
            "details_submitted": True,
            "email": self.email or None,
            "payouts_enabled": True,
            "settings": {"dashboard": {"display_name": self.display_name, "timezone": "UTC"}},
            "type": "standard",
            "livemode": False,
        }


@dataclass
class Behaviour:
    """How the API answers right now: ``delay`` seconds late, or not at all (``down``: the
    connection is closed without an answer), or with a 500 (``failing``)."""

    delay: float = 0.0
    down: bool = False
    failing: bool = False


@dataclass
class Event:
    id: str
    account: str
    type: str
    payload: str  # the exact JSON body delivered (and signed)
    created: int
    deliveries: list[dict[str, Any]] = field(default_factory=list)


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, str] = {}  # api key -> account id
        self.objects: dict[str, dict[str, Any]] = {}  # id -> object (with "_account")
        self.idempotent: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}
        self.events: list[Event] = []
        self.behaviour = Behaviour()
        # Called with every new event (the server delivers it to the account's webhook URL).
        self.listener: Callable[[Event], None] | None = None

    # --- accounts ------------------------------------------------------------------------

    def register(
        self,
        *,
        api_key: str,
        account_id: str = "",
        display_name: str = "",
        webhook_url: str = "",
        webhook_secret: str = "",
        default_currency: str = "usd",
    ) -> Account:
        if not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9_]{8,200}", api_key):
            raise StripeError(400, "api_key must look like sk_test_... or rk_test_...")
        with self.lock:
            account_id = account_id or new_id("acct")
            account = self.accounts.get(account_id) or Account(id=account_id)
            account.display_name = display_name or account.display_name
            account.webhook_url = webhook_url or account.webhook_url
            account.webhook_secret = webhook_secret or account.webhook_secret
            account.default_currency = default_currency
            self.accounts[account_id] = account
            self.keys[api_key] = account_id
            return account

    def account_for_key(self, api_key: str) -> Account:
        with self.lock:
            account_id = self.keys.get(api_key)
            if account_id is None:
                shown = api_key[:8] + "*" * 4 + api_key[-4:] if len(api_key) > 12 else "****"
                raise StripeError(401, f"Invalid API Key provided: {shown}")
            return self.accounts[account_id]

    # --- objects -------------------------------------------------------------------------

    def put(self, account: Account, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.objects[obj["id"]] = {**obj, "_account": account.id}
            return public(self.objects[obj["id"]])

    def get(self, account: Account, kind: str, object_id: str) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None or obj["_account"] != account.id or obj["object"] != kind:
                raise missing(kind.replace(".", "_").replace("checkout_", "checkout."), object_id)
            return obj

    def update(self, obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
        with self.lock:
            obj.update(changes)
            return public(obj)

    def find(self, account: Account, kind: str, **where: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [
                public(o)
                for o in self.objects.values()
                if o["_account"] == account.id
                and o["object"] == kind
                and all(o.get(k) == v for k, v in where.items())
            ]

    # --- events --------------------------------------------------------------------------

    def emit(self, account: Account, kind: str, obj: dict[str, Any]) -> Event:
        created = int(time.time())
        body = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": created,
            "data": {"object": public(obj)},
            "livemode": False,
            "pending_webhooks": 1 if account.webhook_url else 0,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        event = Event(body["id"], account.id, kind, json.dumps(body, indent=2), created)
        with self.lock:
            self.events.append(event)
        if self.listener is not None:
            self.listener(event)
        return event

    def events_of(self, account_id: str) -> list[Event]:
        with self.lock:
            return [e for e in self.events if e.account == account_id]

    def event(self, event_id: str) -> Event:
        with self.lock:
            for event in self.events:
                if event.id == event_id:
                    return event
        raise missing("event", event_id)


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API shows it (without the server's own bookkeeping)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}
