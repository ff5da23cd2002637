"""Cross-cutting HTTP middleware: request ids and the request's log line, and security
headers."""

import re
import time
import uuid

from django.conf import settings

from config.structured_logs import (
    bind_request_id,
    current_request_id,
    log_request,
    unbind_request_id,
)

__all__ = ["RequestIdMiddleware", "RequestLogMiddleware", "current_request_id"]

# Accept a router-supplied id (Heroku sends X-Request-ID) only when it looks like one.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if _SAFE_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        request.request_id = request_id
        token = bind_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class RequestLogMiddleware:
    """One log line per request (config/structured_logs.py), inside RequestIdMiddleware so
    the line carries the request id. Django turns a view's exception into a 500 response
    before it reaches here, so every request gets its line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        log_request(request, response.status_code, started)
        return response


class SecurityHeadersMiddleware:
    """Headers Django 5.2 does not set itself: CSP, and no-store on pages behind a login."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Private pages must not be kept by shared caches or the browser's back button.
            response["Cache-Control"] = "no-store"
        return response
