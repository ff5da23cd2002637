"""A PostgreSQL server of one test's own (pgserver's binaries, as config/embedded_postgres.py
runs them), holding a copy of the test database, that the test may stop and start again
without touching the server every other test uses."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from config.embedded_postgres import APP_ROLE, DATABASE_NAME, OWNER_ROLE, ensure_embedded_database


def _bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


@dataclass
class PrivatePostgres:
    data: Path
    socket_dir: str
    log: Path

    def url(self, role: str) -> str:
        return f"postgres://{role}@{quote(self.socket_dir, safe='')}/{DATABASE_NAME}"

    @property
    def owner_url(self) -> str:
        return self.url(OWNER_ROLE)

    @property
    def app_url(self) -> str:
        return self.url(APP_ROLE)

    def _ctl(self, *args: str, timeout: float = 30) -> None:
        # pgserver's runner: as its own user when we are root (PostgreSQL refuses root),
        # output to files (the started server would hold a pipe open forever).
        from pgserver import _commands

        user = "pgserver" if os.geteuid() == 0 else None
        _commands.pg_ctl(list(args), pgdata=self.data, user=user, timeout=timeout)  # type: ignore[attr-defined]

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: "fast" ends every session (a restart, a failover)."""
        self._ctl("-m", mode, "-w", "stop")

    def start(self) -> None:
        # The options pgserver starts it with: the socket only, no TCP address.
        self._ctl(
            *("-w", "-l", str(self.log), "-o", '-h ""', "-o", f"-k {self.socket_dir}"),
            "start",
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def discard(self) -> None:
        if self.running():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")


def _socket_dir(url: str) -> str:
    return unquote(urlsplit(url).netloc.split("@", 1)[1])


def start_private_postgres(folder: Path, source: dict) -> PrivatePostgres:
    """A new server under ``folder`` with the portal's roles and a copy of the database
    ``source`` (a Django settings dict on the shared embedded server) as ``portal``."""
    urls = ensure_embedded_database(folder)  # initdb, start, the two roles, the database
    server = PrivatePostgres(
        data=folder / ".local" / "pgdata",
        socket_dir=_socket_dir(urls["owner"]),
        log=folder / ".local" / "pgdata" / "fault-run.log",
    )
    started = time.monotonic()
    dump = subprocess.Popen(  # noqa: S603 - pgserver's pg_dump, our own arguments
        [_bin("pg_dump"), "-Fc", "-h", source["HOST"], "-U", "postgres", "-d", source["NAME"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    target = ("-h", server.socket_dir, "-U", "postgres", "-d", DATABASE_NAME)
    restore = subprocess.run(  # noqa: S603 - pgserver's pg_restore, our own arguments
        [_bin("pg_restore"), "--exit-on-error", *target],
        stdin=dump.stdout,
        capture_output=True,
        timeout=120,
    )
    dump.stdout.close()  # type: ignore[union-attr]
    dumped = dump.wait(timeout=120)
    if dumped or restore.returncode:
        server.discard()
        raise RuntimeError(
            f"copying the test database failed: {dump.stderr.read()!r} {restore.stderr!r}"  # type: ignore[union-attr]
        )
    print(f"private PostgreSQL ready in {time.monotonic() - started:.1f} s")
    return server
