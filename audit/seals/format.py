"""One seal: what it states, its canonical bytes, its signature and how it is checked.

The stored file is JSON: ``{"seal": {...}, "signature": "..."}``. The signature covers the
canonical encoding of the ``seal`` object (keys sorted, no spaces, UTF-8), so the file may be
re-indented without harm but no field can change. Each seal names the hash of the chain's
previous seal (``prev_seal``; ``GENESIS_SEAL`` for the first), and seals are numbered from 1
with no gap, so a seal taken away is noticed at the next one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from vault import signing

FORMAT = "portal-audit-seal/1"
GENESIS_SEAL = "0" * 64
PLATFORM_CHAIN = "platform"


class SealFormatError(ValueError):
    """The bytes are not a seal this code writes."""


def chain_name(agency_id: int | None) -> str:
    """The name of a chain in the store: ``agency-<id>``, or ``platform``."""
    return PLATFORM_CHAIN if agency_id is None else f"agency-{int(agency_id)}"


def agency_of_chain(name: str) -> int | None:
    if name == PLATFORM_CHAIN:
        return None
    prefix, _, number = name.partition("-")
    if prefix != "agency" or not number.isdigit():
        raise SealFormatError(f"not a chain name: {name!r}")
    return int(number)


def seal_name(chain: str, seq: int) -> str:
    """Where a seal lives in the store: seals/<chain>/<seq, 10 digits>.json."""
    return f"seals/{chain}/{seq:010d}.json"


@dataclass(frozen=True)
class Seal:
    format: str
    chain: str
    agency_id: int | None
    agency_slug: str
    seq: int
    head_id: int
    head_hash: str
    events: int
    sealed_at: str  # ISO 8601, UTC, from the sealing process's clock (not the database's)
    prev_seal: str
    key_id: str
    signature: str = ""

    def body(self) -> dict[str, object]:
        body = asdict(self)
        del body["signature"]
        return body

    def payload(self) -> bytes:
        return canonical(self.body())

    @property
    def digest(self) -> str:
        """What the next seal of the chain names as ``prev_seal``."""
        return hashlib.sha256(self.payload()).hexdigest()

    def to_bytes(self) -> bytes:
        document = {"seal": self.body(), "signature": self.signature}
        return json.dumps(document, sort_keys=True, indent=1).encode() + b"\n"


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_FIELDS = {
    "format": str,
    "chain": str,
    "agency_slug": str,
    "seq": int,
    "head_id": int,
    "head_hash": str,
    "events": int,
    "sealed_at": str,
    "prev_seal": str,
    "key_id": str,
}


def parse(data: bytes) -> Seal:
    try:
        document = json.loads(data)
        body = document["seal"]
        signature = document["signature"]
    except (ValueError, KeyError, TypeError) as error:
        raise SealFormatError("not a seal document") from error
    if not isinstance(body, dict) or not isinstance(signature, str):
        raise SealFormatError("not a seal document")
    if set(body) != {*_FIELDS, "agency_id"}:
        raise SealFormatError("unexpected or missing fields")
    for name, kind in _FIELDS.items():
        if type(body[name]) is not kind:
            raise SealFormatError(f"field {name} is not a {kind.__name__}")
    agency_id = body["agency_id"]
    if agency_id is not None and type(agency_id) is not int:
        raise SealFormatError("field agency_id is not a number")
    if body["format"] != FORMAT:
        raise SealFormatError(f"unknown seal format {body['format']!r}")
    return Seal(**body, signature=signature)


@lru_cache(maxsize=4)
def _private_key(text: str) -> Ed25519PrivateKey:
    return signing.parse_private_key(text)


def signing_key() -> Ed25519PrivateKey:
    """The key seals are signed with (settings refuse to start without a valid one in
    production; development keeps one in .local/)."""
    if not settings.AUDIT_SEAL_PRIVATE_KEY:
        raise RuntimeError("AUDIT_SEAL_PRIVATE_KEY is not set: no seal can be signed.")
    return _private_key(settings.AUDIT_SEAL_PRIVATE_KEY)


def public_key() -> Ed25519PublicKey:
    """The public half of the signing key: what is published for verification."""
    return signing_key().public_key()


def verification_keys(extra: list[str] | None = None) -> dict[str, Ed25519PublicKey]:
    """Every key a seal may be signed with, by key id: the current key's public half and the
    keys of before a rotation (AUDIT_SEAL_OLD_PUBLIC_KEYS). ``extra`` (public keys as text)
    replaces them all: an auditor checks against the key they were given, not ours."""
    if extra is not None:
        keys = [signing.parse_public_key(text) for text in extra]
    else:
        keys = [signing.parse_public_key(t) for t in settings.AUDIT_SEAL_OLD_PUBLIC_KEYS]
        if settings.AUDIT_SEAL_PRIVATE_KEY:
            keys.insert(0, public_key())
    return {signing.key_id(key): key for key in keys}


def sign(seal: Seal) -> Seal:
    key = signing_key()
    unsigned = replace(seal, key_id=signing.key_id(key.public_key()), signature="")
    return replace(unsigned, signature=signing.sign(key, unsigned.payload()))


def signature_problem(seal: Seal, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Why the seal's signature does not hold, or None."""
    key = keys.get(seal.key_id)
    if key is None:
        return f"signed with key {seal.key_id}, which is not a known verification key"
    if not signing.signature_valid(key, seal.payload(), seal.signature):
        return "its signature is not valid (forged or altered)"
    return None
