"""Ed25519 signing keys: parsing them from the environment, naming them, signing, checking.

The audit log's seals are signed with one (``AUDIT_SEAL_PRIVATE_KEY``). A private key is
given as URL-safe (or standard) base64 of its 32-byte seed, as 64 hex digits, or as a PEM
(PKCS #8) block; a public key as base64 or hex of its 32 raw bytes, or a PEM block. The
signatures themselves are ``cryptography``'s; nothing here is hand-rolled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


class KeyFormatError(ValueError):
    """The text is not a key of the expected kind."""


def _raw_32(text: str) -> bytes | None:
    item = text.strip()
    if len(item) == 64 and all(c in "0123456789abcdefABCDEF" for c in item):
        return bytes.fromhex(item)
    try:
        padded = item + "=" * (-len(item) % 4)
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def parse_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as error:
            raise KeyFormatError("not a readable PEM private key") from error
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("the PEM private key is not an Ed25519 key")
        return key
    seed = _raw_32(text)
    if seed is None:
        raise KeyFormatError("must be 32 bytes in base64 or 64 hex digits, or a PEM block")
    return Ed25519PrivateKey.from_private_bytes(seed)


def parse_public_key(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError) as error:
            raise KeyFormatError("not a readable PEM public key") from error
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError("the PEM public key is not an Ed25519 key")
        return key
    raw = _raw_32(text)
    if raw is None:
        raise KeyFormatError("must be 32 bytes in base64 or 64 hex digits, or a PEM block")
    return Ed25519PublicKey.from_public_bytes(raw)


def new_private_key_text() -> str:
    """A fresh private key, as the URL-safe base64 of its seed (what the environment holds)."""
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(seed).decode()


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as published: URL-safe base64 of its 32 raw bytes."""
    return base64.urlsafe_b64encode(public_bytes(key)).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key, written into each signature's record, so a verifier
    holding several keys (after a rotation) knows which one to try."""
    return hashlib.sha256(b"ed25519-key-id" + public_bytes(key)).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.urlsafe_b64encode(key.sign(message)).decode()


def signature_valid(key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        key.verify(raw, message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
