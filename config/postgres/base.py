"""Django's PostgreSQL backend, with a cheaper check of a kept connection before a request
reuses it (``CONN_HEALTH_CHECKS``, config/db_settings.py).

Django's own check sends ``SELECT 1`` at the start of every request that uses the database:
a round trip on every page, to find the rare connection the server has ended (a restart, a
failover, an idle timeout). When the server ends a connection it says so on the socket (its
"terminating connection" error, then the end of the stream), and between two requests a
healthy server sends nothing. So the socket is looked at first, without waiting: nothing to
read means the server has not ended the connection, and the request goes on with no extra
round trip; anything to read (a goodbye, a notice) means asking properly, with Django's
``SELECT 1``, which closes the connection when it fails (the next statement then opens a new
one). ``tests/config/test_postgres_health_check.py``; ``tests/faults/test_postgres_restart.py``
restarts the server under a live web process.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed:
            return False
        try:
            readable, _, _ = select.select([raw.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if not readable:
            return True
        return bool(super().is_usable())
