"""Tenant resolution and per-request access auditing."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

import audit
from accounts import audit_events, language
from accounts.hashers import HashingBusy
from accounts.local_time import agency_zone
from accounts.signin import sessions
from accounts.tenancy import PLATFORM, agency_context, resolve_host


def not_found(request) -> TemplateResponse:
    response = TemplateResponse(request, "404.html", {"agency": None}, status=404)
    response.render()
    return response


class HostMiddleware:
    """The host allow-list, first in the stack: resolve the agency from the Host header, or
    answer the portal's 404 before anything else (an HTTPS redirect, CSRF) reads the header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        resolved = resolve_host(request.META.get("HTTP_HOST", ""))
        request.is_platform = resolved is PLATFORM
        request.agency = None if resolved is PLATFORM else resolved
        if resolved is None:
            return not_found(request)
        return self.get_response(request)


class TenantContextMiddleware:
    """Run the rest of the request in one transaction whose row-level-security context is
    the agency (or the platform, on the bare base domain); 500 or more rolls it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Pages show times in the agency's own time zone (the database keeps UTC).
        if request.agency is not None:
            timezone.activate(agency_zone(request.agency))
        try:
            # Lazy: a page that needs no query (a cached page) costs no round trip for it.
            with agency_context(request.agency, platform=request.is_platform, lazy=True):
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
        finally:
            timezone.deactivate()
        return response


class HashingBusyMiddleware:
    """A view that found every password-hashing slot of this process taken
    (``accounts.hashers.HashingBusy``) answers "too busy, try again in a moment": 503 with
    Retry-After, never a crash; the tenant middleware rolls the transaction back (5xx), so
    nothing the request began is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, HashingBusy):
            return None
        response = TemplateResponse(request, "accounts/hashing_busy.html", {}, status=503)
        response["Retry-After"] = str(settings.PASSWORD_HASH_RETRY_AFTER_SECONDS)
        response.render()
        return response


# URL parameters that are working credentials (download, invitation, confirmation and
# password-reset links): the event keeps the page's name and the path without them.
_SECRET_URL_PARAMETERS = ("token",)


def recorded_path(request) -> str:
    """The request's path for the audit log, with any link token replaced by "[hidden]"."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name in _SECRET_URL_PARAMETERS:
        value = match.kwargs.get(name) if match is not None else None
        if isinstance(value, str) and value:
            path = path.replace(value, "[hidden]")
    return path[:500]


class AuditAccessMiddleware:
    """One audit event for every authenticated request to an agency's pages, in the
    request's own transaction, naming the view that answered and the status it gave.

    Every URL pattern is covered, present and future: tests/audit/test_page_view_coverage.py
    walks the resolver as a signed-in member and fails on a request that records nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        agency = getattr(request, "agency", None)
        user = getattr(request, "user", None)
        if (
            agency is not None
            and user is not None
            and user.is_authenticated
            and response.status_code < 500
        ):
            match = getattr(request, "resolver_match", None)
            audit.record(
                audit_events.PAGE_VIEWED.code,
                http_request=request,
                details={
                    "view": match.view_name if match else "",
                    "method": request.method,
                    "path": recorded_path(request),
                    "status": response.status_code,
                    # What authenticated a call other than the session (api: the token's key).
                    **getattr(request, "audit_page_details", {}),
                },
            )
        return response


class SessionSecurityMiddleware:
    """Idle and absolute session limits (staff: their agency's; residents: the defaults),
    enforced on every request before any view runs, and the "your sessions" list kept up to
    date. A session past its limit is ended, recorded, and sent to sign in again."""

    MESSAGES = {
        "idle": _("You were signed out because you were away for a while. Please sign in again."),
        "max": _(
            "You were signed out because your session reached its time limit. Please sign in again."
        ),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = sessions.expired_reason(user, http_request=request)
            if reason is not None:
                key = request.session.session_key
                audit.record(
                    audit_events.SESSION_EXPIRED.code,
                    http_request=request,
                    actor=user,
                    details={"reason": "idle timeout" if reason == "idle" else "time limit"},
                )
                sessions.mark_ended(key, reason=f"expired ({reason})")
                request.session_expiring = True
                logout(request)
                messages.info(request, self.MESSAGES[reason])
                return redirect_to_login(
                    request.get_full_path() if request.method == "GET" else "/"
                )
        return self.get_response(request)


class UserLanguageMiddleware:
    """A signed-in person's stored language (``User.language``) where the browser has no
    language cookie yet (a new device): the choice follows the account, not only the browser.
    After AuthenticationMiddleware; LocaleMiddleware has already picked the cookie's or the
    browser's language, which a cookie keeps."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None else ""
        if (
            user is not None
            and chosen
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            code = language.supported(chosen)
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return self.get_response(request)
