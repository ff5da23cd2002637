"""Checking a Stripe webhook delivery before anything is stored: the signature (Stripe's own
verifier, on the raw body, with the agency's signing secret and the timestamp tolerance),
the event's shape, and that it is about this agency's account.

Each agency has its own endpoint (its host's ``/billing/stripe/webhook/``) and its own secret,
so a delivery signed for another agency fails the signature. An event that verifies but
names another Stripe account (Connect's ``account``) or another agency (the ``agency_id`` the
portal put in the metadata of every session it opens) is refused too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from billing import stripe_gateway

# A delivery bigger than this is not one of Stripe's events for a Checkout payment.
MAX_BODY_BYTES = 256 * 1024


class Refused(Exception):
    """The delivery is refused (400); the message says why (for the log, not a person)."""


@dataclass(frozen=True)
class VerifiedEvent:
    id: str
    type: str
    account: str
    created: datetime
    object: dict[str, Any]
    payload: dict[str, Any]


def verify(
    *, payload: bytes, header: str, secret: str, tolerance: int, account_id: str, agency_id: int
) -> VerifiedEvent:
    """The event in ``payload`` when its signature verifies and it belongs to this agency's
    account; else ``Refused``."""
    if not header:
        raise Refused("no Stripe-Signature header")
    try:
        stripe_gateway.verify_signature(payload, header, secret, tolerance)
    except stripe_gateway.SignatureInvalid as error:
        raise Refused(f"signature: {error}") from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise Refused("the body is not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise Refused("not an event")
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if (
        not isinstance(event_id, str)
        or not event_id.startswith("evt_")
        or len(event_id) > 255
        or not isinstance(kind, str)
        or len(kind) > 100
        or not isinstance(created, int)
        or isinstance(created, bool)
        or not isinstance(obj, dict)
    ):
        raise Refused("the event is missing its id, type, creation time or object")
    account = event.get("account")
    if account not in (None, "", account_id):
        raise Refused(f"the event is for another Stripe account ({account})")
    metadata = obj.get("metadata")
    named = metadata.get("agency_id") if isinstance(metadata, dict) else None
    if named not in (None, "") and str(named) != str(agency_id):
        raise Refused("the event names another agency")
    return VerifiedEvent(
        id=event_id,
        type=kind,
        account=str(account or account_id),
        created=datetime.fromtimestamp(created, tz=UTC),
        object=obj,
        payload=event,
    )
