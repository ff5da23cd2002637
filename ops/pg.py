"""PostgreSQL's own tools for the backups: which pg_dump and pg_restore, how they connect,
what a database holds, and scratch databases for trying a restore.

Credentials reach the tools through libpq's environment (PGHOST, PGPASSWORD...), never the
command line, where any user of the machine could read them.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.conf import settings
from psycopg import sql
from psycopg.conninfo import make_conninfo

_SYSTEM_SCHEMAS = ["pg_catalog", "information_schema"]


class ToolError(Exception):
    """pg_dump or pg_restore is missing, too old for the server, or the database refused."""


@dataclass(frozen=True)
class Database:
    """One database to connect to (never printed with its password)."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    sslmode: str = ""

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> Database:
        options = values.get("OPTIONS") or {}
        return cls(
            name=str(values.get("NAME") or ""),
            user=str(values.get("USER") or ""),
            password=str(values.get("PASSWORD") or ""),
            host=str(values.get("HOST") or ""),
            port=str(values.get("PORT") or ""),
            sslmode=str(options.get("sslmode") or ""),
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        try:
            parsed = dj_database_url.parse(url)
        except ValueError as error:
            raise ToolError(f"not a database URL: {error}") from None
        if not parsed.get("NAME"):
            raise ToolError("the database URL names no database")
        return cls.from_settings(dict(parsed))

    @classmethod
    def backed_up(cls) -> Database:
        """The portal's database, as the backup role (settings.BACKUPS.database)."""
        return cls.from_settings(settings.BACKUPS.database)

    def named(self, name: str) -> Database:
        return replace(self, name=name)

    def __str__(self) -> str:
        where = self.host if not self.host.startswith("/") else "the local socket"
        return f"database {self.name!r} on {where or 'localhost'} as {self.user or 'default'}"

    def environment(self, *, reading_all: bool = False) -> dict[str, str]:
        """libpq's variables for the tools; ``reading_all`` sets ``app.backup`` for the
        session (the owner's backup policies, see open_to_the_owner)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if reading_all:
            env["PGOPTIONS"] = f"-c {BACKUP_SETTING}=on"
        values = {
            "PGDATABASE": self.name,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGHOST": self.host,
            "PGPORT": self.port,
            "PGSSLMODE": self.sslmode,
        }
        env.update({k: v for k, v in values.items() if v})
        return env

    def connect(
        self, *, autocommit: bool = False, reading_all: bool = False
    ) -> psycopg.Connection[Any]:
        """A connection; ``reading_all`` sets ``app.backup`` (see open_to_the_owner)."""
        params = {
            "options": f"-c {BACKUP_SETTING}=on" if reading_all else "",
            "dbname": self.name,
            "user": self.user,
            "password": self.password,
            "host": self.host,
            "port": self.port,
            "sslmode": self.sslmode,
        }
        try:
            conninfo = make_conninfo(**{k: v for k, v in params.items() if v})
            return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=10)
        except psycopg.OperationalError as error:
            first = str(error).strip().splitlines()[-1] if str(error).strip() else "refused"
            raise ToolError(f"cannot connect to {self}: {first}") from None


# --- The tools ---------------------------------------------------------------------------------


def _major(version_line: str) -> int:
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", version_line)
    if not found:
        raise ToolError(f"unreadable version: {version_line!r}")
    return int(found.group(1))


@lru_cache(maxsize=16)
def tool_major(path: str) -> int:
    out = subprocess.run(  # noqa: S603  # nosec B603  # fixed PostgreSQL tool or our own module, no shell
        [path, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return _major(out)


def server_major(database: Database) -> int:
    with database.connect(autocommit=True) as conn:
        # nosemgrep: portal-raw-sql -- server version for picking tools; constant text
        number = conn.execute("SHOW server_version_num").fetchone()
    return int(number[0]) // 10000 if number else 0


def _candidate_folders(major: int) -> list[Path]:
    folders = []
    if settings.BACKUPS.pg_bin:
        return [Path(settings.BACKUPS.pg_bin)]
    try:
        import pgserver._commands as pgserver_commands  # the embedded server's own binaries

        folders.append(Path(pgserver_commands.POSTGRES_BIN_PATH))
    except ImportError:  # production has no pgserver: the system's tools
        pass
    folders.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    on_path = shutil.which("pg_dump")
    if on_path:
        folders.append(Path(on_path).resolve().parent)
    return folders


def tool(name: str, major: int) -> str:
    """The ``pg_dump``, ``pg_restore`` or ``psql`` for a server of version ``major``: the same
    major version if there is one (pgserver's own for the embedded server,
    /usr/lib/postgresql/<major>/bin or the PATH otherwise), else a newer one (they read and
    write older servers), or ``BACKUP_PG_BIN``'s. An older one is refused: it cannot."""
    seen: list[str] = []
    newer: list[tuple[int, str]] = []
    for folder in _candidate_folders(major):
        path = folder / name
        if not path.is_file():
            continue
        found = tool_major(str(path))
        seen.append(f"{path} ({found})")
        if found == major:
            return str(path)
        if found > major:
            newer.append((found, str(path)))
    if newer:
        return max(newer)[1]
    raise ToolError(
        f"no {name} of PostgreSQL {major} or newer (the server's version) was found"
        + (f"; found {', '.join(seen)}" if seen else "")
        + ": install the client tools of that version or set BACKUP_PG_BIN to their folder"
    )


# --- What a database holds -------------------------------------------------------------------


BACKUP_SETTING = "app.backup"
BACKUP_POLICY = "backup_read"


def can_read_every_row(conn: psycopg.Connection[Any]) -> bool:
    """A superuser or a BYPASSRLS role: row-level security never applies to it."""
    # nosemgrep: portal-raw-sql -- role attributes from the catalog; constant text
    row = conn.execute(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    return bool(row and row[0])


def open_to_the_owner(conn: psycopg.Connection[Any]) -> None:
    """Let the tables' owner read every row of its tables in a session that sets
    ``app.backup`` (and only then): a ``backup_read`` policy on each table with row-level
    security that has none yet (Heroku gives no role BYPASSRLS, and every tenant table FORCEs
    its policies on the owner). The policy names no role: it holds for whoever is a member of
    the table's owner, so a restored dump carries it to another server's roles. The app role
    owns nothing, so setting ``app.backup`` gives it nothing; the owner could already lift
    row-level security on its tables. A table of another owner stops the backup, named."""
    # nosemgrep: portal-raw-sql -- catalog: tables lacking the backup policy; bound
    rows = conn.execute(
        """
        SELECT c.oid::regclass::text, pg_has_role(c.relowner, 'MEMBER')
        FROM pg_class c
        WHERE c.relrowsecurity AND c.relkind IN ('r', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)
        ORDER BY 1
        """,
        [BACKUP_POLICY],
    ).fetchall()
    foreign = [table for table, owned in rows if not owned]
    if foreign:
        raise ToolError(
            "the backup role can neither bypass row-level security nor owns "
            + ", ".join(foreign[:5])
            + ": set BACKUP_DATABASE_URL to the tables' owner, a superuser or a BYPASSRLS role"
        )
    # nosemgrep: portal-raw-sql -- lock timeout for the policy DDL; constant text
    conn.execute("SET lock_timeout = '10s'")  # a policy waits for the table's lock
    for table, _owned in rows:
        relation = sql.SQL(".").join(sql.Identifier(part) for part in _split(table))
        # nosemgrep: portal-raw-sql -- policy DDL composed with psycopg sql identifiers and literals
        conn.execute(
            sql.SQL(
                "CREATE POLICY {} ON {} FOR SELECT USING ("
                "current_setting({}, true) = 'on' AND pg_catalog.pg_has_role("
                "(SELECT relowner FROM pg_catalog.pg_class WHERE oid = {}::regclass), 'MEMBER'))"
            ).format(
                sql.Identifier(BACKUP_POLICY),
                relation,
                sql.Literal(BACKUP_SETTING),
                sql.Literal(table),
            )
        )
    # nosemgrep: portal-raw-sql -- resets the lock timeout; constant text
    conn.execute("RESET lock_timeout")


def _split(qualified: str) -> list[str]:
    """'schema.table' or 'table' (regclass's text: quoted only where needed)."""
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', qualified)
    return [quoted.replace('""', '"') if quoted else plain for quoted, plain in parts]


def object_count(conn: psycopg.Connection[Any]) -> int:
    """Tables, views, sequences and functions of the database's own schemas."""
    # nosemgrep: portal-raw-sql -- catalog counts; bound parameters
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg_%%')
             + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg_%%')
        """,
        {"system": _SYSTEM_SCHEMAS},
    ).fetchone()
    return int(row[0]) if row else 0


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows of every table (partitions one by one), as ``schema.table``. The role must read
    every row (row-level security would hide some)."""
    # nosemgrep: portal-raw-sql -- catalog listing; bound parameters
    tables = conn.execute(
        """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname <> ALL(%(system)s)
          AND n.nspname NOT LIKE 'pg_%%'
        ORDER BY 1, 2
        """,
        {"system": _SYSTEM_SCHEMAS},
    ).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        # nosemgrep: portal-raw-sql -- row count composed with psycopg sql identifiers
        row = conn.execute(query).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def chain_heads(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Each audit chain's head: agency id (None: the platform's), newest event id and hash,
    and its events in the database (archived months not counted)."""
    # nosemgrep: portal-raw-sql -- catalog lookup of the audit table; constant text
    exists = conn.execute("SELECT to_regclass('public.audit_auditevent')").fetchone()
    if not exists or exists[0] is None:
        return []
    # nosemgrep: portal-raw-sql -- audit chain heads for the manifest; constant text
    rows = conn.execute(
        """
        SELECT h.agency_id, h.events, e.id, e.hash, a.slug
        FROM (SELECT agency_id, count(*) AS events, max(id) AS head
              FROM audit_auditevent GROUP BY agency_id) h
        JOIN audit_auditevent e ON e.id = h.head
        LEFT JOIN accounts_agency a ON a.id = h.agency_id
        ORDER BY h.agency_id NULLS FIRST
        """
    ).fetchall()
    return [
        {"agency_id": agency, "slug": slug or "", "events": events, "head_id": id_, "head_hash": h}
        for agency, events, id_, h, slug in rows
    ]


@contextmanager
def scratch_database(server: Database) -> Iterator[Database]:
    """A new empty database on the same server (the backup role must be allowed to create
    databases), dropped afterwards whatever happens."""
    name = f"portal_backup_check_{secrets.token_hex(4)}"
    with server.named("postgres").connect(autocommit=True) as conn:
        try:
            # nosemgrep: portal-raw-sql -- scratch database DDL with a psycopg sql identifier
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as error:
            raise ToolError(f"cannot create a scratch database on the server: {error}") from None
    try:
        yield server.named(name)
    finally:
        with server.named("postgres").connect(autocommit=True) as conn:
            # nosemgrep: portal-raw-sql -- scratch database DDL with a psycopg sql identifier
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
