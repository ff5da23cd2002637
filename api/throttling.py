"""Throttles of the API, counted in the shared cache (Redis): per token (or, for a session,
per person) and per client address. Over a limit: 429 with ``Retry-After``. When the cache
cannot be reached the limit fails open with a warning in the log (the same policy as
accounts.ratelimits): an outage of Redis must not take the API down."""

from __future__ import annotations

import logging
import time

from rest_framework.throttling import SimpleRateThrottle

import audit
from accounts.ratelimits import CACHE_ERRORS
from api.permissions import token_of

logger = logging.getLogger("portal.api.throttling")
_WARN_EVERY = 30.0
_warned: dict[str, float] = {}


class _FailOpen(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            now = time.monotonic()
            if now - _warned.get(self.scope, -_WARN_EVERY) >= _WARN_EVERY:
                _warned[self.scope] = now
                logger.warning(
                    "API throttle cache unreachable: the limit fails open",
                    extra={
                        "fields": {
                            "event": "api_throttle_cache_unreachable",
                            "scope": self.scope,
                            "error": type(error).__name__,
                        }
                    },
                )
            return True


class TokenThrottle(_FailOpen):
    """Per token; a browser session counts per person."""

    scope = "api_token"

    def get_cache_key(self, request, view) -> str | None:
        token = token_of(request)
        if token is not None:
            ident = f"t{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"u{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressThrottle(_FailOpen):
    """Per client address (the one the audit log records, behind the trusted proxies)."""

    scope = "api_address"

    def get_cache_key(self, request, view) -> str | None:
        ident = audit.client_ip(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}
