"""A token's text and its keyed hash. ``rp_<key>_<secret>``: ``key`` (12 characters) finds
the row, ``secret`` (43 characters, 256 random bits) is checked against the stored
HMAC-SHA-256 under a key derived from SECRET_KEY, compared in constant time. The hash is
keyed, so a leaked table cannot even be used to test guesses without the server's secret."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

PREFIX = "rp"
_SHAPE = re.compile(r"rp_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")
_KEY_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SALT = "api.tokens.secret"


@dataclass(frozen=True)
class TokenText:
    key: str
    secret: str

    @property
    def text(self) -> str:
        return f"{PREFIX}_{self.key}_{self.secret}"


def new_token_text() -> TokenText:
    key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(12))
    return TokenText(key=key, secret=secrets.token_urlsafe(32))


def parse(text: str) -> TokenText | None:
    match = _SHAPE.fullmatch(text or "")
    return TokenText(match.group(1), match.group(2)) if match else None


def digest_of(token: TokenText) -> str:
    """The stored hash: over the key and the secret, so a row's digest fits no other row."""
    return salted_hmac(_SALT, f"{token.key}:{token.secret}", algorithm="sha256").hexdigest()


def matches(token: TokenText, stored_digest: str) -> bool:
    return hmac.compare_digest(digest_of(token).encode(), stored_digest.encode())
