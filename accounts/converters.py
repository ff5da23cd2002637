"""URL converters of the accounts pages. Each admits only the form its views accept, so a
malformed value answers 404 before any view (or query) sees it; tests/test_url_parameters.py
checks every parameter of the project. Importing this module registers them (once per
process): a ``urls.py`` that uses one imports it.
"""

from __future__ import annotations

import uuid

from django.urls import register_converter

from accounts.models import ProviderKind

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class UuidTextConverter:
    """A UUID in its canonical form (lower case, with hyphens), handed to the view as text.

    For the single sign-on routes: allauth's own views receive the provider's id and compare
    it as text with ``SocialApp.provider_id``/``client_id`` (``str(public_id)``), so Django's
    ``uuid`` converter, which hands over a ``uuid.UUID``, would not match them."""

    regex = UUID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str | uuid.UUID) -> str:
        return str(value)


class TokenConverter:
    """A link token: ``secrets.token_urlsafe(32)`` (accounts.services._shared.new_token),
    always 43 characters of the URL-safe base64 alphabet."""

    regex = "[A-Za-z0-9_-]{43}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ProviderKindConverter:
    """One of ``ProviderKind``'s values (google, microsoft, oidc, saml, ldap)."""

    regex = "|".join(sorted(ProviderKind.values))

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


class ResetUidConverter:
    """Django's password-reset ``uidb64``: a user id (a big integer, at most 19 digits) in
    URL-safe base64 without padding, so at most 26 characters."""

    regex = "[0-9A-Za-z_-]{1,26}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ResetTokenConverter:
    """Django's password-reset token (``PasswordResetTokenGenerator``: the timestamp in base
    36, a hyphen, every other hex digit of a SHA-256 HMAC), or the placeholder
    ``set-password`` that Django's confirm view redirects to once the token is in the
    session."""

    regex = "[0-9a-z]{1,13}-[0-9a-f]{32}|set-password"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UuidTextConverter, "uuid_text")
register_converter(TokenConverter, "token")
register_converter(ProviderKindConverter, "provider_kind")
register_converter(ResetUidConverter, "reset_uid")
register_converter(ResetTokenConverter, "reset_token")
