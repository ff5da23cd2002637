"""The REST API's settings (issue 14; api/): Django REST framework and drf-spectacular."""

from __future__ import annotations

from typing import Any

from config.env import env_str

API_PAGE_SIZE = 50


def rest_framework_settings() -> dict[str, Any]:
    return {
        # The browser's session (with CSRF, as DRF's SessionAuthentication enforces it);
        # personal API tokens are added in front of it by api/authentication.py.
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "api.authentication.ApiTokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        # Per token (or person) and per client address, in the shared cache (api/throttling.py).
        "DEFAULT_THROTTLE_CLASSES": [
            "api.throttling.TokenThrottle",
            "api.throttling.AddressThrottle",
        ],
        "DEFAULT_THROTTLE_RATES": {
            "api_token": env_str("API_THROTTLE_TOKEN", "1200/min"),
            "api_address": env_str("API_THROTTLE_ADDRESS", "2400/min"),
        },
        # Closed unless a view says otherwise (the open-data endpoints do).
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        # JSON only: no browsable API (its forms would be a second web UI to secure).
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],  # 413 past its limit
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "EXCEPTION_HANDLER": "api.errors.exception_handler",
        # No OPTIONS description of a view's fields (405): the schema describes the API.
        "DEFAULT_METADATA_CLASS": None,
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
        # Keyset pages with a bounded ?page_size= (api/pagination.py).
        "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetPagination",
        "DEFAULT_VERSIONING_CLASS": None,
        "TEST_REQUEST_DEFAULT_FORMAT": "json",
    }


def spectacular_settings() -> dict[str, Any]:
    return {
        "TITLE": "Records Portal API",
        "DESCRIPTION": (
            "Public-records requests, documents, invoices and an agency's audit log. The agency "
            "is the host the request is sent to, exactly as on the web."
        ),
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "SCHEMA_PATH_PREFIX": "/api/v1",
        "COMPONENT_SPLIT_REQUEST": True,
        # Swagger UI's files from the drf-spectacular-sidecar package, served as this
        # portal's own static files: no CDN, and the CSP stays 'self'.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "ENUM_NAME_OVERRIDES": {
            "RequestStatusEnum": "requests_portal.models.Status",
            "DocumentStatusEnum": "documents.models.DocumentStatus",
            "InvoiceStatusEnum": "billing.models.InvoiceStatus",
            "VisibilityEnum": "requests_portal.models.Visibility",
        },
        # The one error shape on every operation (api/schema.py); enums as drf-spectacular does.
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "api.schema.add_error_responses",
        ],
    }
