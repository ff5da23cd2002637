"""How each webhook is signed (docs/webhooks.md tells receivers how to check it).

``X-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<body>" under the
endpoint's secret>``. The timestamp is inside what is signed, so a receiver that refuses
old timestamps (five minutes is the advice) cannot be fed a recorded delivery again later;
the event id header (``X-Portal-Event-Id``, the same on every try of one event) lets it
drop the repeats of a delivery it already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Portal-Signature"
EVENT_ID_HEADER = "X-Portal-Event-Id"
EVENT_TYPE_HEADER = "X-Portal-Event"
SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105  # a prefix that names the kind, not a secret


def new_secret() -> str:
    """A fresh signing secret (256 random bits), shown to the admin once."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-Portal-Signature`` for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """The receiver's check (what the docs describe; the tests' receiver uses the recipe
    written out in docs/webhooks.md, not this): a well-formed header, a timestamp within
    ``tolerance`` seconds of ``now``, and a matching signature, compared in constant time."""
    fields = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), fields.get("v1", ""))
