"""Which language a person reads: the page's (LocaleMiddleware's choice) and the one their
emails are written in.

Pages follow the visitor: the language switch's cookie, else the browser. Emails cannot ask a
browser, so they follow what was stored: ``User.language`` for someone with an account (set
when they use the switch or sign up), ``RecordsRequest.language`` for the language a request
was filed in (covers guests). Staff notices use the staff member's language, English unless
they chose otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def codes() -> list[str]:
    """The languages the portal offers (settings.LANGUAGES), the default first."""
    return [code for code, _name in settings.LANGUAGES]


def default() -> str:
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def supported(code: str | None) -> str:
    """``code`` if the portal offers it (or a variant of it: ``es-mx`` → ``es``), else the
    default."""
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return default()


def active() -> str:
    """The language of the page being served (LocaleMiddleware activated it)."""
    return supported(translation.get_language())


def of_user(user: object, *, fallback: str | None = None) -> str:
    """The language ``user`` (or None) reads email in: the one they chose, else ``fallback``
    (the page's language, when they are the one at the keyboard), else the default."""
    return supported(getattr(user, "language", "") or fallback)
