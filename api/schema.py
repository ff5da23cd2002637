"""What drf-spectacular needs to describe the API exactly: the personal token's security
scheme, and the one error shape on every operation (api/errors.py), added by a hook so no
view can forget it."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_STATUSES = {
    "400": "Invalid input: a message, and one per field under fields.",
    "401": "No valid credentials (a missing, wrong, revoked or expired token).",
    "403": "Signed in, but the role or the token's scopes do not allow it.",
    "404": "No such object here (another agency's and hidden ones included).",
    "413": "The body is too large.",
    "429": "Too many calls: wait for Retry-After seconds.",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rp_<key>_<secret>",
            "description": "A personal API token from your account page.",
        }


class OpenDataSessionScheme(OpenApiAuthenticationExtension):
    """Open data reads the browser's session only to keep a member's visit on the audit log
    (api/open_data/views.py); it needs no sign-in."""

    target_class = "api.open_data.views.KeepSignedInUser"
    name = "openDataSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


def add_error_responses(result, generator, request, public):
    """Every operation answers the error shape for every error status it can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
