"""Fault run: PostgreSQL restarts under load (issue 16).

The Procfile's web process (gunicorn, two workers) serves a copy of the test database from a
PostgreSQL server of the test's own (tests/faults/private_postgres.py) while four clients
keep asking for pages. The server is stopped ("fast": every session ended, as in a restart
or a failover), left down a few seconds, and started again. Every request is answered, none
takes longer than the bounded waits (config/db_settings.py), none is a crash page: while the
database is away the answer is 503 with Retry-After; once it is back every page answers 200
again from the same gunicorn workers, nobody restarted them.

The web process's statement timeout is checked on its own: a query that outlives it is
cancelled (a 503, not a stuck worker), and a database address that accepts a connection and
never answers costs a connection attempt the connect timeout, not minutes.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.private_postgres import PrivatePostgres, start_private_postgres
from tests.idp._process import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 4
OUTAGE_SECONDS = 3
# Longest answer allowed: the connect timeout (5 s) and slack for a loaded CI machine.
LONGEST = 10.0
PAGES = ("/healthz", "/")


@dataclass
class Answer:
    path: str
    started: float
    took: float
    status: int | None
    error: str = ""
    retry_after: str | None = None


@pytest.fixture(scope="module")
def private_postgres(django_db_setup, django_db_blocker):
    from django.db import connection

    # Not under pytest's private temp folder: run as root, pgserver runs the server as its
    # own user, who must reach the data folder.
    folder = Path(tempfile.mkdtemp(prefix="portal-fault-pg-"))
    folder.chmod(0o755)
    try:
        with django_db_blocker.unblock():
            server = start_private_postgres(folder, connection.settings_dict)
        try:
            yield server
        finally:
            server.discard()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def web_env(server: PrivatePostgres, **extra: str) -> dict[str, str]:
    dropped = ("DATABASE_", "REDIS_", "PORTAL_", "DB_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": server.owner_url,
        "DATABASE_APP_URL": server.app_url,
        "DATABASE_SSLMODE": "disable",
        "DEBUG": "0",  # error pages as production answers them, not Django's debug page
        "PYTHONPATH": str(ROOT),
        # The Procfile names gunicorn; Heroku finds it on the PATH, here it is the venv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra,
    }


def procfile_web(port: int) -> str:
    line = next(li for li in (ROOT / "Procfile").read_text().splitlines() if li.startswith("web:"))
    return f"{line.split(':', 1)[1].strip()} --bind 127.0.0.1:{port}"


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def gunicorn_master(pid: int) -> int:
    """The shell may run the Procfile's line as a child or hand its process over to gunicorn:
    the master is the process whose children are the workers."""
    kids = children(pid)
    if len(kids) == 1 and children(next(iter(kids))):
        return next(iter(kids))
    return pid


def ask(port: int, path: str) -> Answer:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        response.read()
        return Answer(
            path,
            started,
            time.monotonic() - started,
            response.status,
            retry_after=response.getheader("Retry-After"),
        )
    except OSError as error:
        return Answer(path, started, time.monotonic() - started, None, repr(error))
    finally:
        conn.close()


@pytest.fixture
def web(private_postgres, tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S602 - the Procfile's own line  # nosec B602
        procfile_web(port),
        shell=True,
        cwd=ROOT,
        env=web_env(private_postgres, WEB_CONCURRENCY="2"),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while ask(port, "/healthz").status != 200:
            assert process.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.3)
        yield port, process, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_the_web_process_rides_out_a_database_restart(private_postgres, web):
    port, process, log = web
    master = gunicorn_master(process.pid)
    workers = children(master)
    assert len(workers) == 2, log.read_text()[-4000:]

    answers: list[Answer] = []
    stop = threading.Event()

    def client(n: int) -> None:
        while not stop.is_set():
            answers.append(ask(port, PAGES[n % len(PAGES)]))
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    down_at = time.monotonic()
    private_postgres.stop("fast")
    time.sleep(OUTAGE_SECONDS)
    private_postgres.start()
    up_at = time.monotonic()
    time.sleep(6)
    stop.set()
    for thread in threads:
        thread.join(timeout=LONGEST + 5)

    during = [a for a in answers if down_at + 0.5 < a.started < up_at - 0.5]
    after = [a for a in answers if a.started > up_at + 3]
    statuses = sorted({a.status for a in answers}, key=str)
    longest = max(a.took for a in answers)
    print(
        f"{len(answers)} requests, statuses {statuses}, longest {longest:.2f} s; "
        f"during the outage {len(during)} (all 503: "
        f"{all(a.status == 503 for a in during)}); after it {len(after)}"
    )
    assert [a for a in answers if a.status is None] == [], "a request got no answer"
    assert set(statuses) <= {200, 503}, f"{statuses}\n{log.read_text()[-4000:]}"
    assert longest < LONGEST
    # The health check always asks the database; other pages answer 503 when they need it.
    checks = [a for a in during if a.path == "/healthz"]
    assert checks and all(a.status == 503 and a.retry_after == "5" for a in checks)
    assert all(a.retry_after == "5" for a in during if a.status == 503)
    assert after and all(a.status == 200 for a in after), [a.status for a in after]
    assert children(master) == workers, "the web workers were restarted"
    assert process.poll() is None


def run_in_web_process(server: PrivatePostgres, code: str, **env: str) -> str:
    """``code`` in a fresh interpreter set up as a web process is (through config.wsgi)."""
    program = "import config.wsgi\nfrom django.db import connection\n" + code
    done = subprocess.run(  # noqa: S603 - our interpreter, our own program
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=web_env(server, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def test_a_web_process_statement_that_outlives_the_timeout_is_cancelled(private_postgres):
    shown = run_in_web_process(
        private_postgres,
        "with connection.cursor() as c:\n"
        "    c.execute('SHOW statement_timeout')\n"
        "    print(c.fetchone()[0])\n",
    )
    assert shown == "20s"

    outcome = run_in_web_process(
        private_postgres,
        "import time\n"
        "from django.db import OperationalError\n"
        "from django.test import RequestFactory\n"
        "from config.views import server_error\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('SELECT pg_sleep(30)')\n"
        "except OperationalError:\n"
        "    response = server_error(RequestFactory().get('/'))\n"
        "    print(response.status_code, round(time.monotonic() - started))\n",
        DB_STATEMENT_TIMEOUT="1",
    )
    assert outcome in ("503 1", "503 2"), outcome


def test_a_worker_process_has_no_statement_timeout(settings):
    # Migrations, retention and backups run long statements on purpose.
    assert "options" not in settings.DATABASES["default"]["OPTIONS"]
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_a_database_that_accepts_and_never_answers_costs_the_connect_timeout(private_postgres):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel completes the handshake; nobody ever answers
    port = listener.getsockname()[1]
    silent = f"postgres://portal_app@127.0.0.1:{port}/portal"
    try:
        outcome = run_in_web_process(
            private_postgres,
            "import time\n"
            "from django.db import OperationalError\n"
            "started = time.monotonic()\n"
            "try:\n"
            "    connection.ensure_connection()\n"
            "except OperationalError:\n"
            "    print(round(time.monotonic() - started))\n",
            DATABASE_APP_URL=silent,
            DB_CONNECT_TIMEOUT="2",
        )
    finally:
        listener.close()
    assert outcome and int(outcome) <= 4, outcome
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5
