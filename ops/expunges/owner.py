"""Running one piece of work as the role that owns the tables, from a process that otherwise
connects as the app role (the worker).

Only an expunge needs it (its deletion of the agency's audit events is the owner's right:
ops/expunge.py). The work runs on a thread of its own whose database connection is a new one,
to the same database as the caller's, with the owner's credentials (``DATABASE_URL``); the
caller's own connection, and so everything else the process does, stays the app role bound by
row-level security. The connection is closed when the work ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections

T = TypeVar("T")

_OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


def run_as_owner(work: Callable[[], T]) -> T:
    """``work()`` on a thread whose default connection is the tables' owner; its result, or
    its exception raised here."""
    caller = connections["default"]
    values = dict(caller.settings_dict)
    values.update({key: settings.PORTAL_OWNER_DATABASE.get(key) for key in _OWNER_KEYS})
    outcome: dict[str, Any] = {}

    def target() -> None:
        owner = type(caller)(values, "default")
        connections["default"] = owner
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 (handed to the caller below)
            outcome["error"] = error
        finally:
            owner.close()

    thread = threading.Thread(target=target, name="expunge-as-owner", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["value"]
    return result
