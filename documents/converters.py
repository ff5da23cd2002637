"""URL converters of the document pages. Importing this module registers them (once per
process): a ``urls.py`` that uses one imports it."""

from __future__ import annotations

from django.urls import register_converter


class SignedLinkConverter:
    """A download link's token: ``django.core.signing.dumps`` output (URL-safe base64 payload,
    timestamp and signature joined by colons; about 130 characters, see documents.links).

    Only the alphabet and the length are checked here, not the shape: a link that was
    tampered with (a changed character, a cut end) must still reach the download view, which
    refuses it with 403 and records the refusal in the audit log."""

    regex = "[A-Za-z0-9_:-]{1,256}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SignedLinkConverter, "signed_link")
