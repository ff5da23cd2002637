"""How the portal's processes behave when PostgreSQL restarts, fails over or stalls (issue 16,
the fault runs; tests/faults/test_postgres_restart.py).

- **Reconnect, never restart.** Connections are kept for ``DB_CONN_MAX_AGE`` seconds and
  checked before a request reuses one (``CONN_HEALTH_CHECKS``): after a restart or a
  failover, the next request of each process opens a new connection by itself. The check
  looks at the socket first and asks the server only when it has sent something
  (config/postgres/base.py). While the server is away a request answers 503 "try again"
  (config/views.py), never a crash page.
- **Connect timeout** (``DB_CONNECT_TIMEOUT``, 5 s): an address that accepts nothing (a
  failover under way, a dropped network) costs a request seconds, not the kernel's two
  minutes of connection retries.
- **Statement timeout for web processes** (``DB_STATEMENT_TIMEOUT``, 20 s, 0 turns it off):
  a query stuck behind a lock or a stalled server ends before gunicorn's 30 s worker timeout
  and Heroku's 30 s router limit, as a 503, and frees the worker. Only the web process has
  it (config/wsgi.py marks the process): workers, beat and ``manage.py`` (migrations,
  retention, backups) run long statements on purpose, bounded by their tasks' time limits.
"""

from __future__ import annotations

import os
from typing import Any

from config.env import env_int

# config/wsgi.py sets it before the settings load: the process serves web requests.
WEB_PROCESS_VARIABLE = "PORTAL_WEB_PROCESS"
CONNECT_TIMEOUT = 5
WEB_STATEMENT_TIMEOUT = 20


def is_web_process() -> bool:
    return os.environ.get(WEB_PROCESS_VARIABLE) == "1"


def connection_options(*, web: bool) -> dict[str, Any]:
    """psycopg's connection options: the timeouts above (seconds in, what libpq takes out)."""
    options: dict[str, Any] = {
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", CONNECT_TIMEOUT, minimum=1)
    }
    statement = env_int("DB_STATEMENT_TIMEOUT", WEB_STATEMENT_TIMEOUT if web else 0, minimum=0)
    if statement:
        options["options"] = f"-c statement_timeout={statement * 1000}"
    return options


def with_timeouts(database: dict[str, Any], *, web: bool) -> dict[str, Any]:
    """One of Django's DATABASES entries, checked before reuse and with the timeouts."""
    return dict(
        database,
        # Django's PostgreSQL backend whose health check first looks at the socket
        # (config/postgres/base.py): no round trip while the server has said nothing.
        ENGINE="config.postgres",
        CONN_HEALTH_CHECKS=True,
        OPTIONS={**database.get("OPTIONS", {}), **connection_options(web=web)},
    )
