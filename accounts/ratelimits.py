"""Rate limits on the sign-in, reset, sign-up, invitation and two-factor endpoints
(django-ratelimit, counted in the cache: Redis in production, shared by every web process).

They sit in front of the per-account protections (django-axes lockout, django-otp's
back-off): these stop volume from one address or against one account; those stop guessing.

When the cache cannot be reached (Redis down or timing out), a limit fails open for the
shared counter, with a warning in the log, and falls back to a tighter counter kept in the
process's own memory: a quarter of the shared count (at least one) over the same period, per
process. A resident's filing or a sign-in then still works; what degrades is listed in
docs/operations.md ("When Redis is down").
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import redis.exceptions
from django.conf import settings
from django.template.response import TemplateResponse
from django_ratelimit.core import is_ratelimited

import audit

logger = logging.getLogger("portal.ratelimits")

# What the Redis cache raises when Redis is away, slow or refusing writes.
CACHE_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
# The in-process fallback allows this share of the shared limit.
FALLBACK_SHARE = 4
_WARN_EVERY = 30.0  # seconds: one warning per group and process while the outage lasts
_RATE = re.compile(r"([0-9]+)/([0-9]*)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Key = Callable[[str, Any], str]


class LocalCounter:
    """Fixed-window counts in this process's memory, for while the shared cache is away."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, group: str, key: str, *, limit: int, period: int) -> bool:
        """Count one request; True when it goes over ``limit`` in the current window."""
        window = int(time.time() // period)
        with self._lock:
            if len(self._counts) >= self._max_keys:
                self._counts.clear()  # bounded memory; an outage is short
            count = self._counts.get((group, key, window), 0) + 1
            self._counts[(group, key, window)] = count
        return count > limit

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


LOCAL = LocalCounter()
_warned: dict[str, float] = {}


def fallback_rate(rate: str) -> tuple[int, int]:
    """(count, period in seconds) of the in-process limit that stands in for ``rate``."""
    match = _RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiplier, unit = match.groups()
    return max(1, int(count) // FALLBACK_SHARE), int(multiplier or 1) * _UNIT[unit]


def ip_key(group, request) -> str:
    return audit.client_ip(request) or "unknown"


def limited(request, *, group: str, rate: str, key: Key = ip_key) -> bool:
    """Count this request against the limit; True when it is over. Never raises for an
    unreachable cache: the in-process limit decides then (see the module's docstring)."""
    try:
        return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
    except CACHE_ERRORS as error:
        _warn(group, error)
        limit, period = fallback_rate(rate)
        return LOCAL.hit(group, key(group, request), limit=limit, period=period)


def _warn(group: str, error: BaseException) -> None:
    now = time.monotonic()
    if now - _warned.get(group, -_WARN_EVERY) < _WARN_EVERY:
        return
    _warned[group] = now
    # The group only: keys are addresses and e-mail addresses.
    logger.warning(
        "Rate-limit cache unreachable: the shared limit fails open, the in-process one applies",
        extra={
            "fields": {
                "event": "ratelimit_cache_unreachable",
                "group": group,
                "error": type(error).__name__,
            }
        },
    )


def too_many(request) -> TemplateResponse:
    response = TemplateResponse(request, "accounts/rate_limited.html", {}, status=429)
    response["Retry-After"] = "600"
    response.render()
    return response


def code_attempts_exceeded(request, user) -> bool:
    """Two-factor codes and re-authentication, per person (wherever they come from)."""
    return limited(
        request,
        group="mfa_user",
        rate=settings.RATE_LIMIT_MFA_PER_USER,
        key=lambda group, req: f"user:{user.pk}",
    )
