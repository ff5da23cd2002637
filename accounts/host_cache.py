"""Which agency a host names, remembered for a few seconds by each web process.

Every request starts by turning its Host header into an agency row (``tenancy.resolve_host``).
That row changes a few times a year (a rename, a new custom domain, sign-in settings,
deactivation), yet reading it was one database round trip on every page. Each process now
keeps the answer for ``AGENCY_HOST_CACHE_SECONDS`` (a few seconds):

- a change made through the ORM, ``save()``, ``delete()`` or a queryset's ``update()`` or
  ``delete()`` (``AgencyQuerySet``), empties this process's cache at once, and again when its
  transaction commits (a read made meanwhile by another request of the process, outside that
  transaction, may have stored the old row);
- other processes see the change once their entry is older than the limit: a deactivated
  agency answers 404 everywhere within those seconds.

Each request gets its own copy of the cached row, so nothing a request sets on it (cached
relations, attributes) reaches the next one. The process's own memory, not Redis: a Redis read
is a round trip too, which is what this removes.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models, transaction

_lock = threading.Lock()
_entries: dict[str, tuple[float, Any]] = {}
# Bumped by every clear: a read that began before a change must not store what it read.
_generation = 0


def lookup(host: str, load: Callable[[], Any]) -> Any:
    """The agency (or None) for ``host``: a copy of the cached row while it is fresh, else
    ``load()``'s answer, remembered."""
    ttl = settings.AGENCY_HOST_CACHE_SECONDS
    now = time.monotonic()
    entry = _entries.get(host)
    if entry is not None and now - entry[0] < ttl:
        return copy.copy(entry[1])
    generation = _generation
    found = load()
    if ttl > 0:
        with _lock:
            if generation == _generation:
                if len(_entries) > settings.AGENCY_HOST_CACHE_SIZE:
                    _entries.clear()  # a flood of unknown hosts cannot grow it without end
                _entries[host] = (now, copy.copy(found))
    return found


def clear() -> None:
    """Forget every host now and once the current transaction commits."""
    _clear_now()
    transaction.on_commit(_clear_now)


def _clear_now() -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


class AgencyQuerySet(models.QuerySet):
    """Bulk changes of agencies clear the host cache as ``save()`` does (the post_save and
    post_delete receivers in accounts/apps.py)."""

    def update(self, **kwargs: Any) -> int:
        clear()
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        clear()
        return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]
