"""The web request's transaction sets its row-level-security context right before its first
statement (accounts.tenancy.agency_context(lazy=True)): a page that asks the database nothing
sends nothing, and every statement that is sent runs under the context.

These tests run outside the suite's per-test transaction (as a web process does: the request's
transaction is the outermost) and write nothing: they read the context back and count rows of
a tenant table under an agency id that owns none.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from psycopg.pq import TransactionStatus

from accounts.models import Membership
from accounts.tenancy import agency_context, current_db_context

NO_SUCH_AGENCY = 987654321


@pytest.fixture
def outermost(django_db_setup, django_db_blocker):
    """Database access with no transaction around the test (the web process's situation)."""
    with django_db_blocker.unblock():
        assert not connection.in_atomic_block
        yield
        connection.close()


def _status() -> TransactionStatus:
    return connection.connection.info.transaction_status


def _statements(captured: CaptureQueriesContext) -> list[str]:
    # Django's debug log also lists BEGIN and COMMIT, as the block's own markers, whether
    # psycopg sent them or not: the statements are the rest.
    return [q["sql"] for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]


def test_a_request_transaction_that_asks_nothing_sends_nothing(outermost):
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as captured, agency_context(NO_SUCH_AGENCY, lazy=True):
        # Not even BEGIN: the server sees no transaction.
        assert _status() == TransactionStatus.IDLE
    assert _statements(captured) == []
    assert _status() == TransactionStatus.IDLE


def test_the_first_statement_runs_under_the_context(outermost):
    with CaptureQueriesContext(connection) as captured, agency_context(NO_SUCH_AGENCY, lazy=True):
        assert current_db_context() == (NO_SUCH_AGENCY, False)
        assert Membership.objects.count() == 0
    sent = _statements(captured)
    assert "set_config" in sent[0]
    assert sum("set_config" in sql for sql in sent) == 1  # once per transaction


def test_the_platform_context_is_set_lazily_too(outermost):
    with agency_context(None, platform=True, lazy=True):
        assert current_db_context() == (None, True)


def test_a_savepoint_first_is_preceded_by_the_context(outermost):
    with (
        CaptureQueriesContext(connection) as captured,
        agency_context(NO_SUCH_AGENCY, lazy=True),
        transaction.atomic(),
    ):
        assert current_db_context() == (NO_SUCH_AGENCY, False)
    sent = _statements(captured)
    assert "set_config" in sent[0]
    assert sent[1].startswith("SAVEPOINT")


def test_each_request_transaction_gets_its_own_context(outermost):
    with agency_context(NO_SUCH_AGENCY, lazy=True):
        assert current_db_context() == (NO_SUCH_AGENCY, False)
    with agency_context(NO_SUCH_AGENCY + 1, lazy=True):
        assert current_db_context() == (NO_SUCH_AGENCY + 1, False)
    # After the transaction the setting is gone (set_config(..., is_local => true)).
    assert current_db_context() == (None, False)


def test_a_nested_lazy_context_is_set_at_once_and_restores_the_outer(outermost):
    with agency_context(NO_SUCH_AGENCY, lazy=True):
        with agency_context(NO_SUCH_AGENCY + 1, lazy=True):
            assert current_db_context() == (NO_SUCH_AGENCY + 1, False)
        assert current_db_context() == (NO_SUCH_AGENCY, False)


def test_a_page_through_the_whole_stack_runs_its_queries_under_the_platform_context(outermost):
    # The platform's health check reads the audit log's partitions: platform rows.
    with CaptureQueriesContext(connection) as captured:
        response = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN).get("/healthz")
    assert response.status_code == 200
    sent = _statements(captured)
    assert "set_config" in sent[0]
    assert not connection.in_atomic_block
