"""The check of a kept connection (config/postgres/base.py) sends nothing while the server
has said nothing, and still finds a connection the server has ended."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection, connections

from config.postgres.base import DatabaseWrapper


@pytest.fixture
def outermost(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield
        connection.close()


def _count_round_trips(monkeypatch) -> list[str]:
    sent: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self, query, *args, **kwargs):
        sent.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    return sent


def test_the_portal_connects_through_the_cheaper_check(outermost):
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_healthy_connection_is_checked_without_a_round_trip(outermost, monkeypatch):
    connection.ensure_connection()
    sent = _count_round_trips(monkeypatch)
    assert connection.is_usable()
    assert sent == []
    # Django's own check, for comparison: a SELECT 1 every time.
    assert super(DatabaseWrapper, connections["default"]).is_usable()
    assert sent == ["SELECT 1"]


def test_a_connection_the_server_ended_is_found_and_replaced(outermost):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    # Another connection of the same role ends this one, as a restart or failover would.
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server's goodbye takes a moment to arrive
    assert not connection.is_usable()
    # What Django does at the start of a request: the check fails, the connection is
    # closed, the request's first statement opens a new one.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
