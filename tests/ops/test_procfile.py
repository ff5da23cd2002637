"""Heroku, as far as it runs here: every Procfile process, started by honcho (a Procfile
runner) under production settings against services on this machine.

- PostgreSQL: a fresh database of the test server, reached as the owner role (migrate) and
  the app role (everything else), as on Heroku;
- Redis: a private redis-server that speaks TLS only, with a self-signed certificate and a
  password (Heroku Data for Redis; REDIS_SSL_CERT_REQS=none as app.json sets it);
- S3: Ceph's RADOS Gateway (tests/documents/s3_server.py) with the documents, key store and
  Object Lock seal buckets;
- SMTP: a local server that keeps what it is sent (plain SMTP: EMAIL_USE_TLS=false).

The release command runs first and must pass (migrate, then check --deploy at warning level);
then web, worker and beat: web answers behind Heroku's router (X-Forwarded-Proto: https;
without it, the redirect to HTTPS), the worker sends an email enqueued by another process,
and beat's heartbeat is sent and run. Bounded: about 40 seconds here, never more than 90;
every process honcho started is killed at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from tests.documents.s3_server import S3Gateway, start_s3_gateway
from tests.idp._process import ServerStartError, ServiceUnavailable, _die_with_parent, free_port
from tests.idp.fixtures import service_unavailable
from tests.ops.production import BASE_DOMAIN, ROOT, production_env, run_manage
from tests.ops.services import start_smtp_sink, start_tls_redis

DEADLINE_SECONDS = 90
AGENCY_SLUG = "procfile"
AGENCY_HOST = f"{AGENCY_SLUG}.{BASE_DOMAIN}"
AGENCY_NAME = "Procfile Test Agency"
HEARTBEAT_KEY = ":1:portal:beat-heartbeat"  # accounts.tasks.BEAT_HEARTBEAT_KEY, as cached

# Run by a production process before web, worker and beat start: an agency whose page web
# serves, and an email for the worker, enqueued through the portal's own job API.
SETUP = f"""
from accounts.jobs import send_email
from accounts.models import Agency
from accounts.tenancy import agency_context
with agency_context(None, platform=True):
    Agency.objects.create(slug="{AGENCY_SLUG}", name="{AGENCY_NAME}")
    send_email(agency_id=None, subject="Procfile check", body="Sent by the worker.",
               to=["ops@{BASE_DOMAIN}"])
print("setup done")
"""


def _owner_connection(dbname: str) -> psycopg.Connection:
    owner = settings.PORTAL_OWNER_DATABASE
    params = {
        "dbname": dbname,
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner.get("HOST") or None,
        "port": owner.get("PORT") or None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database owned by the owner role, as `heroku addons:create` hands one over."""
    name = f"procfile_{os.getpid()}"
    with _owner_connection(settings.PORTAL_OWNER_DATABASE["NAME"]) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # a run killed half-way
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _owner_connection(settings.PORTAL_OWNER_DATABASE["NAME"]) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children before grandchildren."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


class Honcho:
    """``honcho start <processes>`` in the repository, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path, *processes: str) -> None:
        self.log = log
        self.process = subprocess.Popen(  # noqa: S603 (the venv's honcho, our own arguments)
            [str(Path(sys.executable).with_name("honcho")), "start", "--no-colour", *processes],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"still running after {timeout} s:\n{self.output()[-4000:]}"
            ) from None

    def kill(self) -> list[int]:
        """Stop honcho and everything it started; the processes that were running."""
        running = [self.process.pid, *_descendants(self.process.pid)]
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)  # honcho stops its processes
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        return running


def _get(port: int, path: str, host: str, *, https: bool = True) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host, **({"X-Forwarded-Proto": "https"} if https else {})}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def _until(condition, timeout: float, what: str, log: Honcho):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if result := condition():
                return result
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen in {timeout} s:\n{log.output()[-6000:]}")


def _storage_env(gateway: S3Gateway) -> dict[str, str]:
    client = gateway.client()
    documents, keystore = gateway.new_bucket("documents"), gateway.new_bucket("keystore")
    seals = f"seals-{documents.rsplit('-', 1)[1]}"
    client.create_bucket(Bucket=seals, ObjectLockEnabledForBucket=True)
    return {
        "DOCUMENTS_S3_BUCKET": documents,
        "KEYSTORE_S3_BUCKET": keystore,
        "AUDIT_SEAL_S3_BUCKET": seals,
        "DOCUMENTS_S3_ENDPOINT_URL": gateway.endpoint,
        "DOCUMENTS_S3_ADDRESSING_STYLE": "path",
        "DOCUMENTS_S3_REGION": gateway.region,
        "DOCUMENTS_S3_ACCESS_KEY_ID": gateway.access_key,
        "DOCUMENTS_S3_SECRET_ACCESS_KEY": gateway.secret_key,
    }


def test_every_procfile_process_runs_under_production_settings(fresh_database, tmp_path):
    started = time.monotonic()
    try:
        redis_server = start_tls_redis(tmp_path / "redis")
    except ServiceUnavailable as error:
        service_unavailable(str(error))
    smtp = start_smtp_sink()
    web_port = free_port()
    env = production_env(
        fresh_database,
        REDIS_URL=redis_server.url,
        REDIS_SSL_CERT_REQS="none",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="false",
        BEAT_HEARTBEAT_SECONDS="2",
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "celerybeat-schedule"),
        WEB_CONCURRENCY="1",
        WORKER_CONCURRENCY="1",
        GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{web_port}",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    honchos: list[Honcho] = []
    gateway: S3Gateway | None = None
    build: subprocess.Popen | None = None
    try:
        # What Heroku's Python buildpack runs while building the slug: collectstatic (the
        # hashed, compressed files production's WhiteNoise serves; staticfiles/, git-ignored).
        build = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput"],
            cwd=ROOT,
            env=env,
            stdout=(tmp_path / "build.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        # The release phase: migrate as the owner, then check --deploy as the app role. It
        # touches no bucket, so it starts while the S3 gateway comes up (the buckets' names
        # and endpoint are the only settings the dynos get that it did not).
        release = Honcho(env, tmp_path / "release.log", "release")
        honchos.append(release)
        try:
            # In this thread: the gateway's processes die with the thread that started them.
            gateway = start_s3_gateway(tmp_path / "s3")
        except (ServiceUnavailable, ServerStartError) as error:
            service_unavailable(f"the S3 gateway (Ceph RADOS Gateway) cannot run: {error}")
        env.update(_storage_env(gateway))
        assert build.wait(timeout=60) == 0, (tmp_path / "build.log").read_text()[-3000:]
        assert release.wait(timeout=60) == 0, release.output()[-6000:]
        assert "System check identified no issues" in release.output()

        processes = Honcho(env, tmp_path / "processes.log", "web", "worker", "beat")
        honchos.append(processes)
        # While they start: an agency, and an email for the worker (enqueued, not sent: with
        # Redis configured nothing runs in-process).
        setup = run_manage(env, "shell", "-c", SETUP, timeout=60)
        assert "setup done" in setup.stdout, setup.stdout[-3000:] + setup.stderr[-3000:]

        health = _until(
            lambda: _get(web_port, "/healthz", BASE_DOMAIN), 30, "web answering", processes
        )
        assert (health.status, health.body) == (200, b"ok")
        assert health.getheader("Strict-Transport-Security", "").startswith("max-age=")
        # Without the router's header the request came over plain HTTP: sent to HTTPS.
        plain = _get(web_port, "/healthz", BASE_DOMAIN, https=False)
        assert plain.status == 301
        assert plain.getheader("Location") == f"https://{BASE_DOMAIN}/healthz"

        page = _get(web_port, "/", AGENCY_HOST)
        assert page.status == 200, page.body[:2000]
        assert AGENCY_NAME.encode() in page.body
        # Its stylesheet, served by WhiteNoise from the build's hashed, compressed copy.
        stylesheet = re.search(rb'href="(/static/css/portal\.[0-9a-f]+\.css)"', page.body)
        assert stylesheet, page.body[:2000]
        css = _get(web_port, stylesheet.group(1).decode(), AGENCY_HOST)
        assert css.status == 200
        assert "immutable" in css.getheader("Cache-Control", "")

        message = _until(lambda: smtp.messages, 30, "the worker sending the email", processes)[0]
        assert message["Subject"] == "Procfile check"
        assert message["To"] == f"ops@{BASE_DOMAIN}"

        cache = redis.Redis.from_url(redis_server.url, ssl_cert_reqs="none")
        beat_ran = _until(lambda: cache.get(HEARTBEAT_KEY), 20, "beat's heartbeat", processes)
        assert beat_ran
        output = processes.output()
        assert "Sending due task beat-heartbeat (accounts.tasks.beat_heartbeat)" in output
        # Both ran on the worker: its one log line per finished task names them.
        finished = [
            json.loads(line.split("| ", 1)[1])
            for line in output.splitlines()
            if "| {" in line and '"portal.tasks"' in line
        ]
        assert {"accounts.tasks.send_email", "accounts.tasks.beat_heartbeat"} <= {
            entry.get("task") for entry in finished if entry.get("state") == "SUCCESS"
        }
        elapsed = time.monotonic() - started
    finally:
        running = [pid for honcho in honchos for pid in honcho.kill()]
        if build is not None and build.poll() is None:
            build.kill()
            build.wait(timeout=10)
        smtp.stop()
        redis_server.stop()
        if gateway is not None:
            gateway.stop()
    leftover = [pid for pid in running if Path(f"/proc/{pid}").exists() and _alive(pid)]
    assert leftover == []
    assert elapsed < DEADLINE_SECONDS


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to read its status."""
    with contextlib.suppress(OSError):
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False
