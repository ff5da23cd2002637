"""The redaction pages' cache (page sizes, previews, the conversion and progress notes),
used best-effort: with Redis away a lookup is a miss and a write is skipped, so the pages
keep working, slower (each preview is decrypted and drawn again), instead of answering an
error (issue 16, the fault runs: tests/faults/test_redis_down_redaction.py).

Nothing here is the only copy of anything: sizes and previews are made again, a forgotten
conversion failure is tried again, and progress shows again once Redis is back. The flag
that starts a conversion once is the exception: while Redis is away it counts as taken, so
page views do not queue one conversion each (the broker is away too; the first view after
Redis is back starts it). One warning per process every 30 seconds: ``portal.cache``,
``event: cache_unreachable``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache

from accounts.ratelimits import CACHE_ERRORS

logger = logging.getLogger("portal.cache")
_WARN_EVERY = 30.0
_last_warning = [-_WARN_EVERY]


def _warn(error: BaseException) -> None:
    now = time.monotonic()
    if now - _last_warning[0] < _WARN_EVERY:
        return
    _last_warning[0] = now
    logger.warning(
        "Cache unreachable: the redaction pages work without it",
        extra={"fields": {"event": "cache_unreachable", "error": type(error).__name__}},
    )


def get(key: str) -> Any:
    try:
        return cache.get(key)
    except CACHE_ERRORS as error:
        _warn(error)
        return None


def set(key: str, value: Any, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except CACHE_ERRORS as error:
        _warn(error)


def add(key: str, value: Any, timeout: int) -> bool:
    """True when this call took the key; False when it was taken, or Redis is away."""
    try:
        return bool(cache.add(key, value, timeout))
    except CACHE_ERRORS as error:
        _warn(error)
        return False


def delete(key: str) -> None:
    try:
        cache.delete(key)
    except CACHE_ERRORS as error:
        _warn(error)
