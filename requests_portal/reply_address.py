"""Signed reply-to addresses: ``reply+<token>@<REPLY_DOMAIN>`` on every email to a requester,
so that a reply by email lands on the right request (the ``mailin`` app reads them).

The token names the agency, the request, the person it was sent to (0 for a guest, who is
known only by the request's email address) and when it was issued, followed by a MAC
(HMAC-SHA-256 keyed with SECRET_KEY under a salt of its own, cut to 80 bits). It is written
in lower-case base32: mail systems may change the case of an address's local part, and
base32 reads the same whatever they do. Made here, below the apps that send mail, so that no
lower layer needs to import ``mailin``; checked here too, by :func:`read_reply_token`.
"""

from __future__ import annotations

import base64
import binascii
import struct
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

REPLY_SALT = "requests_portal.reply_address.v1"
LOCAL_PREFIX = "reply+"
_PAYLOAD = struct.Struct(">IIII")  # agency, request, recipient (0: a guest), issued (Unix s)
_MAC_BYTES = 10
_TOKEN_BYTES = _PAYLOAD.size + _MAC_BYTES
# An address issued "in the future" by more than this is not one the portal made.
_CLOCK_SKEW_SECONDS = 300


class ReplyAddressError(Exception):
    """Why an address is refused: ``reason`` is one of "unsigned" (no reply token at all),
    "forged" (malformed, or the MAC does not match) or "expired"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ReplyToken:
    agency_id: int
    request_id: int
    recipient_id: int  # the User the email went to; 0 when it went to a guest's address
    issued_at: int  # Unix seconds


def _mac(payload: bytes, secret: str | bytes) -> bytes:
    return salted_hmac(REPLY_SALT, payload, secret=secret, algorithm="sha256").digest()[:_MAC_BYTES]


def reply_token(
    *, agency_id: int, request_id: int, recipient_id: int | None, issued_at: int | None = None
) -> str | None:
    """The token for one email, or None when an id does not fit (the email then has no
    reply address, as when no REPLY_DOMAIN is set)."""
    issued = int(time.time()) if issued_at is None else issued_at
    values = (agency_id, request_id, recipient_id or 0, issued)
    if any(not 0 <= value < 2**32 for value in values):
        return None
    payload = _PAYLOAD.pack(*values)
    raw = payload + _mac(payload, settings.SECRET_KEY)
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def reply_address(*, agency_id: int, request_id: int, recipient_id: int | None) -> str | None:
    """``reply+<token>@<REPLY_DOMAIN>``, or None when replies by email are off (no domain)."""
    domain = settings.REPLY_DOMAIN
    if not domain:
        return None
    token = reply_token(agency_id=agency_id, request_id=request_id, recipient_id=recipient_id)
    return None if token is None else f"{LOCAL_PREFIX}{token}@{domain}"


def token_of_address(address: str) -> str:
    """The token of a reply address (any case), or ReplyAddressError("unsigned") when the
    address is not a reply address of this portal's domain."""
    local, at, domain = address.strip().rpartition("@")
    if not at or domain.lower() != settings.REPLY_DOMAIN.lower() or not settings.REPLY_DOMAIN:
        raise ReplyAddressError("unsigned")
    if not local.lower().startswith(LOCAL_PREFIX) or len(local) == len(LOCAL_PREFIX):
        raise ReplyAddressError("unsigned")
    return local[len(LOCAL_PREFIX) :]


def read_reply_token(token: str, *, now: float | None = None) -> ReplyToken:
    """Check a token's MAC (against SECRET_KEY and its fallbacks) and age; ReplyAddressError
    says why it is refused."""
    text = token.strip().upper()
    if len(text) > 64 or not text.isascii():
        raise ReplyAddressError("forged")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ReplyAddressError("forged") from None
    if len(raw) != _TOKEN_BYTES:
        raise ReplyAddressError("forged")
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(constant_time_compare(mac, _mac(payload, secret)) for secret in secrets):
        raise ReplyAddressError("forged")
    agency_id, request_id, recipient_id, issued_at = _PAYLOAD.unpack(payload)
    current = time.time() if now is None else now
    if issued_at > current + _CLOCK_SKEW_SECONDS:
        raise ReplyAddressError("forged")
    if current - issued_at > settings.REPLY_ADDRESS_MAX_AGE_DAYS * 86400:
        raise ReplyAddressError("expired")
    return ReplyToken(agency_id, request_id, recipient_id, issued_at)
