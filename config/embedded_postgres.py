"""The embedded default database: a real PostgreSQL server from PyPI (``pgserver``).

Used when ``DATABASE_URL`` is unset (a laptop, the test suite). Data lives under
``.local/pgdata`` (git-ignored) and the server keeps running between commands, so a second
``make run`` or ``make test`` starts in well under a second and keeps its data.

Two roles are created, as in production:
- ``portal_owner`` owns the database and its tables and runs migrations;
- ``portal_app`` is what the web and worker processes connect as: it owns nothing, is not a
  superuser and has no BYPASSRLS, so row-level security applies to every query it makes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

OWNER_ROLE = "portal_owner"
APP_ROLE = "portal_app"
DATABASE_NAME = "portal"


def _socket_dir(server) -> str:
    # pgserver listens on a Unix socket only (never on a TCP port of this machine).
    uri = server.get_uri()
    return uri.split("host=", 1)[1].split("&", 1)[0]


def ensure_embedded_database(base_dir: Path) -> dict[str, str]:
    """Start (or reuse) the embedded server and return connection URLs for both roles."""
    import warnings

    import psycopg

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); harmless here.
        warnings.simplefilter("ignore")
        import pgserver  # dev dependency: production always sets DATABASE_URL

    data_dir = base_dir / ".local" / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    socket_dir = _socket_dir(server)

    with psycopg.connect(
        dbname="postgres", user="postgres", host=socket_dir, autocommit=True
    ) as conn:
        # nosemgrep: portal-raw-sql -- bootstraps the embedded server's roles; no input
        existing = {row[0] for row in conn.execute("SELECT rolname FROM pg_roles")}
        if OWNER_ROLE not in existing:
            # CREATEDB so the test runner (running as the owner) can create its test database.
            # nosemgrep: portal-raw-sql -- CREATE ROLE is DDL; the name is a constant
            conn.execute(
                f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE"
            )
        if APP_ROLE not in existing:
            # nosemgrep: portal-raw-sql -- CREATE ROLE is DDL; the name is a constant
            conn.execute(
                f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            )
        # nosemgrep: portal-raw-sql -- a pg_database lookup; bound parameter
        has_db = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not has_db:
            # nosemgrep: portal-raw-sql -- CREATE DATABASE is DDL; names are constants
            conn.execute(f"CREATE DATABASE {DATABASE_NAME} OWNER {OWNER_ROLE}")
    with psycopg.connect(
        dbname=DATABASE_NAME, user="postgres", host=socket_dir, autocommit=True
    ) as conn:
        # PostgreSQL 15+ no longer lets every role create objects in "public"; the owner must.
        # nosemgrep: portal-raw-sql -- ALTER SCHEMA is DDL; the name is a constant
        conn.execute(f"ALTER SCHEMA public OWNER TO {OWNER_ROLE}")

    host = quote(socket_dir, safe="")  # a socket path travels URL-encoded in the host part
    return {
        "owner": f"postgres://{OWNER_ROLE}@{host}/{DATABASE_NAME}",
        "app": f"postgres://{APP_ROLE}@{host}/{DATABASE_NAME}",
        # The server's superuser (socket only): what pg_dump runs as for backups, since every
        # tenant table FORCEs row-level security on its owner too (ops/backups.py).
        "superuser": f"postgres://postgres@{host}/{DATABASE_NAME}",
    }
