"""Helpers of the backup tests.

The backups are taken of a database of their own: a copy of the migrated test database made
when the first backup test starts (its rows of other tests removed), so what other tests
committed (audit chains they tampered with on purpose, among others) never reaches these
backups. Rows are committed there through a thread whose default connection points at it.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connections

from ops import pg

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BackupSetup:
    settings: Any
    root: Path
    key: bytes
    database: str

    def server(self) -> pg.Database:
        return pg.Database.from_settings(self.settings.BACKUPS.database)

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


def superuser_database(name: str) -> pg.Database:
    return pg.Database.from_settings(settings.BACKUPS.database).named(name)


def run_in(database: str, fn: Callable[[], Any]) -> Any:
    """``fn`` on a thread whose default connection (the app role) is ``database``; what it
    writes commits."""
    default = connections["default"]
    values = dict(default.settings_dict, NAME=database)
    outcome: dict[str, Any] = {}

    def target() -> None:
        wrapper = type(default)(values, "default")
        connections["default"] = wrapper
        try:
            outcome["value"] = fn()
        except BaseException as error:  # noqa: BLE001 (re-raised below)
            outcome["error"] = error
        finally:
            wrapper.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def copy_of_test_database(template: str) -> str:
    """A copy of the migrated test database without any agency's rows, audit events or chain
    heads (a head left behind would make the copy's next event chain onto a missing one)."""
    name = f"backup_tests_{os.getpid()}"
    connections.close_all()
    server = superuser_database("postgres")
    with server.connect(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    with server.named(name).connect(autocommit=True) as conn:
        # The append-only triggers stand down for this session only (a superuser's right).
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "TRUNCATE audit_auditevent, audit_chainhead, audit_auditarchive, accounts_agency"
            " CASCADE"
        )
    return name


def drop_database(name: str) -> None:
    with superuser_database("postgres").connect(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def filler(database: str, megabytes: int) -> Iterator[None]:
    """A table of random (incompressible) bytes, so a dump takes long enough to be killed."""
    with superuser_database(database).connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE ops_test_filler (id int, data bytea)")
        with conn.cursor().copy("COPY ops_test_filler FROM STDIN") as copy:
            for n in range(megabytes):
                copy.write_row((n, os.urandom(1024 * 1024)))
    try:
        yield
    finally:
        with superuser_database(database).connect(autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS ops_test_filler")


def database_url(database: str) -> str:
    values = settings.BACKUPS.database
    host = quote(values.get("HOST") or "", safe="")
    password = f":{quote(values['PASSWORD'])}" if values.get("PASSWORD") else ""
    port = f":{values['PORT']}" if values.get("PORT") else ""
    return f"postgres://{values['USER']}{password}@{host}{port}/{database}"


def backup_environment(setup: BackupSetup) -> dict[str, str]:
    """The variables that point a backup process at this test's database, store and key."""
    return {
        "BACKUP_KEY": base64.urlsafe_b64encode(setup.key).decode(),
        "BACKUP_DATABASE_URL": database_url(setup.database),
        "BACKUP_LOCAL_ROOT": str(setup.root),
    }


def backup_process(setup: BackupSetup, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``manage.py backup_now`` as its own process, into this test's store, under this test's
    key."""
    env = {**os.environ, **backup_environment(setup), **extra_env}
    return subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(ROOT / "manage.py"), "backup_now"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def worker_process(setup: BackupSetup) -> subprocess.Popen[bytes]:
    """A process standing in for a Celery worker: it runs the beat task (in-process, eager),
    which starts the backup's own process (ops/backup_process.py)."""
    env = {**os.environ, **backup_environment(setup)}
    code = (
        "from ops.tasks import backup_database; "
        "backup_database.apply(kwargs={'agency_id': None, 'kind': 'daily'}).get()"
    )
    return subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    """SIGKILL the process as soon as ``ready()`` holds (it must not finish first)."""
    deadline = time.monotonic() + 60
    while not ready():
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"the backup ended before it could be killed:\n{output}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the backup never got going")
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
