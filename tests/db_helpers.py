"""Helpers for tests that need work committed by another connection (concurrency, tamper)."""

import os
import threading
import time
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


# Set by tests/bench/test_benches_run.py for the benchmarks it starts.
BENCH_TEMPLATE_VARIABLE = "PORTAL_BENCH_TEMPLATE_DATABASE"


@contextmanager
def connected_as_owner():
    """Point the default connection at the owner role's credentials for a while (creating
    and dropping the test database, as the release phase's migrate does)."""
    app = {key: connection.settings_dict.get(key) for key in _CREDENTIAL_KEYS}
    connection.close()
    connection.settings_dict.update(
        {key: settings.PORTAL_OWNER_DATABASE.get(key) for key in _CREDENTIAL_KEYS}
    )
    if template := os.environ.get(BENCH_TEMPLATE_VARIABLE):
        # The benchmarks' smoke run (tests/bench): a throw-away database is a copy of one
        # already migrated, so its migrate has nothing left to do.
        connection.settings_dict.setdefault("TEST", {})["TEMPLATE"] = template
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(app)


def wait_for_lock_waiters(count: int) -> None:
    """Until ``count`` other connections wait on a row lock (the threads reached it)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # The test's transaction would otherwise keep seeing its first snapshot.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    raise AssertionError("the threads never waited on the lock")


def race_behind_a_lock(hold_rows, attempts) -> list:
    """Start every one of ``attempts`` at the same moment, each on its own committed
    connection: ``hold_rows(locked, release)`` takes row locks, sets ``locked`` and waits for
    ``release``; the attempts start, and once all of them wait on those locks they are let
    go together. Returns each attempt's value or exception, in the order they finished."""
    locked, release = threading.Event(), threading.Event()
    outcomes: list = []

    def attempt(work):
        try:
            outcomes.append(run_in_committed_thread(work))
        except BaseException as exc:  # noqa: BLE001 (returned to the test)
            outcomes.append(exc)

    holder = threading.Thread(
        target=run_in_committed_thread, args=(lambda: hold_rows(locked, release),)
    )
    holder.start()
    try:
        assert locked.wait(20), "the rows were never locked"
        racers = [threading.Thread(target=attempt, args=(work,)) for work in attempts]
        for racer in racers:
            racer.start()
        wait_for_lock_waiters(len(racers))
    finally:
        release.set()
    for thread in [holder, *racers]:
        thread.join(60)
    return outcomes
