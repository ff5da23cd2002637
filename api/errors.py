"""One shape for every error the API answers, whatever raised it:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"name": ["..."]}}}

``fields`` appears only for invalid input and names each field with its messages (nested
serializers' fields are joined with a dot). Anything DRF does not know becomes a 500 with a
plain message and no detail (the traceback goes to the log and Sentry, never to the caller)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"a": {"b": ["x"]}, "c": [{"d": ["y"]}]}`` → ``{"a.b": ["x"], "c.0.d": ["y"]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages]}


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    # Django's own exceptions first, as DRF would map them, so the shape is the same.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handling (logged, reported, no detail)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = (
            fields["non_field_errors"][0]
            if list(fields) == ["non_field_errors"]
            else gettext("Some fields are not valid; see fields.")
        )
        response.data = error_body(response.status_code, "invalid", message, fields)
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
    message = str(detail) if not isinstance(detail, (dict, list)) else gettext("Request refused.")
    code = _code(exc) if isinstance(exc, exceptions.APIException) else "error"
    response.data = error_body(response.status_code, code, message)
    return response


def not_found_body() -> dict:
    return error_body(status.HTTP_404_NOT_FOUND, "not_found", gettext("Not found."))
