"""The agency home page for anonymous visitors, rendered once per process for each agency (as
its row stands) and language, then served from memory.

Everything on that page comes from the agency's row, the language and the templates, except
the CSRF token of the language switch's form. So the page is kept with a slot where the token
goes, and each response gets its own masked token (``get_token``, which also sets the CSRF
cookie as rendering would): no token is ever shared between responses. The response then
passes through the same middleware as a rendered one (CSP, Vary, cookies, the request's log
line), so its headers are the same.

Served from memory only when nothing else could change the page: a GET or HEAD of ``/``
without a query string (the form's ``next`` field is the page's own path), on an agency's
host, with no session cookie (so no signed-in person, no support access, no messages kept in
the session) and no messages cookie. Anything else is rendered as before.

The key holds every column of the agency's row, so a change to the agency (its name, contact
details, anything) makes a new key: the old page is never served again, in this process at
once, elsewhere once the host cache (accounts/host_cache.py) has the new row. The process's
own memory, not Redis: a Redis read is a round trip, which is what this saves.
"""

from __future__ import annotations

import secrets
import threading

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Agency

TEMPLATE = "accounts/agency_home.html"
# Where each response's CSRF token goes: random per process, so no page text can hold it.
_CSRF_SLOT = f"csrf-slot-{secrets.token_hex(16)}"
_MAX_PAGES = 1000  # agencies x languages; past it the cache starts again

_lock = threading.Lock()
_pages: dict[tuple, str] = {}


def _servable(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.path == "/"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and not request.user.is_authenticated
    )


def _key(agency: Agency) -> tuple:
    # Every column, not only those the template shows today: a template that starts showing
    # another one cannot serve a stale page.
    row = tuple(getattr(agency, field.attname) for field in Agency._meta.concrete_fields)
    return (translation.get_language(), row)


def anonymous_home(request: HttpRequest) -> HttpResponse | None:
    """The agency's home page from memory for an anonymous visitor, or None when this request
    must be rendered (see the module's docstring)."""
    agency = getattr(request, "agency", None)
    if agency is None or not _servable(request):
        return None
    key = _key(agency)
    page = _pages.get(key)
    if page is None:
        page = render_to_string(TEMPLATE, {"csrf_token": _CSRF_SLOT}, request=request)
        with _lock:
            if len(_pages) >= _MAX_PAGES:
                _pages.clear()
            _pages[key] = page
    return HttpResponse(page.replace(_CSRF_SLOT, get_token(request)))


def clear() -> None:
    """Forget every page (tests)."""
    with _lock:
        _pages.clear()
