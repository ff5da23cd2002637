"""Helpers for tests that need work committed by another connection (concurrency, tamper)."""

import threading
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import connection, connections


def run_in_committed_thread(fn):
    """Run ``fn`` on a fresh connection in another thread, so its transactions commit.

    Rows committed this way outlive the test (audit rows cannot be deleted at all), so such
    tests use agencies of their own that no other test looks at."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def owner_connection(*, autocommit: bool = False) -> psycopg.Connection:
    """A raw connection to the test database as the table owner (not the app role)."""
    owner = settings.PORTAL_OWNER_DATABASE
    params = {
        "dbname": connection.settings_dict["NAME"],
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner.get("HOST") or None,
        "port": owner.get("PORT") or None,
    }
    params.update(owner.get("OPTIONS", {}))
    params = {k: v for k, v in params.items() if v is not None}
    return psycopg.connect(**params, autocommit=autocommit)


_CREDENTIAL_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def connected_as_owner():
    """Point the default connection at the owner role's credentials for a while (creating
    and dropping the test database, as the release phase's migrate does)."""
    app = {key: connection.settings_dict.get(key) for key in _CREDENTIAL_KEYS}
    connection.close()
    connection.settings_dict.update(
        {key: settings.PORTAL_OWNER_DATABASE.get(key) for key in _CREDENTIAL_KEYS}
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(app)
