"""Tenant resolution and per-request access auditing."""

from django.db import transaction
from django.template.response import TemplateResponse

import audit
from accounts import audit_events
from accounts.tenancy import PLATFORM, agency_context, resolve_host


def not_found(request) -> TemplateResponse:
    response = TemplateResponse(request, "404.html", {"agency": None}, status=404)
    return response.render()


class TenantMiddleware:
    """Resolve the agency from the Host header and run the request in its RLS context.

    An unknown or malformed host answers the portal's 404 page before anything else reads
    the header. The rest of the request runs in one transaction whose row-level-security
    context is the agency (or the platform, on the bare base domain); a response of 500 or
    more rolls it back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        resolved = resolve_host(request.META.get("HTTP_HOST", ""))
        if resolved is None:
            request.agency = None
            return not_found(request)
        is_platform = resolved is PLATFORM
        request.agency = None if is_platform else resolved
        with agency_context(request.agency, platform=is_platform):
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response


class AuditAccessMiddleware:
    """One audit event for every authenticated request to an agency's pages, in the
    request's own transaction, naming the view that answered and the status it gave."""

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
                request=request,
                details={
                    "view": match.view_name if match else "",
                    "method": request.method,
                    "path": request.path[:500],
                    "status": response.status_code,
                },
            )
        return response
