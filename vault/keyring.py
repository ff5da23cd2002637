"""The master keyring: seals small secrets at rest (SSO client secrets, LDAP bind passwords).

Keys come from ``PORTAL_MASTER_KEYS``: a comma-separated list of 32-byte keys, each in
URL-safe base64 or as 64 hex digits (what Heroku's ``secret`` generator makes). The first
key seals; every key in the list still opens, so a key is rotated by
putting a new one first, running ``manage.py reseal_secrets``, then dropping the old one.
(Issue 5's document keyring wraps agency keys with the same master keys.)

A sealed value is ``b"s1" + key id (4 bytes) + nonce (12 bytes) + AES-256-GCM ciphertext``.
The associated data names what the secret belongs to (e.g. ``identity-provider:<uuid>``),
so a sealed value copied onto another row, or into another agency, fails to open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = b"s1"
_KEY_ID_LENGTH = 4
_NONCE_LENGTH = 12


class SealError(Exception):
    """A sealed value could not be opened: wrong key, wrong owner, or tampered bytes."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"portal-master-key-id" + key).digest()[:_KEY_ID_LENGTH]


def parse_master_keys(raw: str) -> list[bytes]:
    """Decode the PORTAL_MASTER_KEYS value; any malformed entry stops the process."""
    keys = []
    for position, item in enumerate(part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            if len(item) == 64 and all(c in "0123456789abcdefABCDEF" for c in item):
                key = bytes.fromhex(item)
            else:
                key = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"PORTAL_MASTER_KEYS entry {position + 1} must be 32 bytes, in URL-safe base64 "
                "or 64 hex digits "
                '(make one with: python -c "import os,base64;'
                'print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
            )
        keys.append(key)
    if not keys:
        raise ImproperlyConfigured("PORTAL_MASTER_KEYS must hold at least one key.")
    return keys


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@lru_cache(maxsize=4)
def _keys(raw: tuple[bytes, ...]) -> dict[bytes, AESGCM]:
    return {key_id(key): AESGCM(key) for key in raw}


def _keyring() -> tuple[bytes, dict[bytes, AESGCM]]:
    keys = tuple(settings.PORTAL_MASTER_KEYS)
    return key_id(keys[0]), _keys(keys)


def seal(plaintext: bytes, *, aad: str) -> bytes:
    current, ciphers = _keyring()
    nonce = os.urandom(_NONCE_LENGTH)
    return _VERSION + current + nonce + ciphers[current].encrypt(nonce, plaintext, aad.encode())


def open_sealed(blob: bytes, *, aad: str) -> bytes:
    blob = bytes(blob)
    if not blob.startswith(_VERSION) or len(blob) < 2 + _KEY_ID_LENGTH + _NONCE_LENGTH + 16:
        raise SealError("not a sealed value")
    kid = blob[2 : 2 + _KEY_ID_LENGTH]
    nonce = blob[2 + _KEY_ID_LENGTH : 2 + _KEY_ID_LENGTH + _NONCE_LENGTH]
    body = blob[2 + _KEY_ID_LENGTH + _NONCE_LENGTH :]
    _, ciphers = _keyring()
    cipher = ciphers.get(kid)
    if cipher is None:
        raise SealError("sealed with a master key that is no longer configured")
    try:
        return cipher.decrypt(nonce, body, aad.encode())
    except InvalidTag:
        raise SealError("the sealed value does not belong here or was changed") from None


def sealed_with_current_key(blob: bytes) -> bool:
    current, _ = _keyring()
    return bytes(blob)[2 : 2 + _KEY_ID_LENGTH] == current
