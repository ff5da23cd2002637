"""What the HTTP benches share (bench/http_bench.py, bench/load_bench.py): a throw-away
database seeded through the portal's services, the Procfile's web process under production
settings beside a bare Django hello-world under the same gunicorn command, a staff session
that passed two-factor, and one bounded ``wrk`` run with its figures parsed.

Not a benchmark itself (tests/bench/test_benches_run.py lists it as a helper).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60
SEED_REQUESTS = 60  # the bench dataset: the demo agencies and this many more requests
RARE_TERM = "monorail"  # one demo request's title
COMMON_TERM = "records"  # in every seeded request

# wrk prints these from its done() hook: requests, seconds, latency percentiles (us), then
# responses outside 2xx/3xx and socket errors (connect, read, write) and timeouts apart.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %.6f %d %d %d %d %d %d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write, e.timeout))
end
"""
# A page with several addresses: each connection takes them in turn (wrk.headers, set by -H,
# go with every one).
WRK_ROTATE = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format(nil, paths[i])
end
"""
WRK_FIGURES = re.compile(r"^BENCH (\d+) ([\d.]+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", re.M)

BARE_SETTINGS = """
SECRET_KEY = "bare-hello-world-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bare_urls"
WSGI_APPLICATION = "bare_wsgi.application"
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
"""
BARE_URLS = """
from django.http import HttpResponse
from django.urls import path

def hello(request):
    return HttpResponse("Hello, world.")

urlpatterns = [path("", hello)]
"""
BARE_WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""
# What a web process writes when something went wrong: a worker killed for taking too long,
# an exception's traceback, a log record at ERROR or above.
SERVER_TROUBLE = re.compile(r"WORKER TIMEOUT|Traceback|\bERROR\b|\bCRITICAL\b")


@dataclass
class Page:
    name: str
    port: int
    host: str
    path: str
    cookie: str = ""
    # More addresses of the same page, taken in turn under load (``path`` is the first).
    more_paths: list[str] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    requests: int = 0
    status_errors: int = 0
    socket_errors: int = 0
    timeouts: int = 0

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors + self.timeouts

    def forget(self) -> None:
        """Drop the figures gathered so far (after a warm-up run)."""
        for figures in (self.rates, self.p50, self.p95, self.p99, self.ratios):
            figures.clear()
        self.requests = self.status_errors = self.socket_errors = self.timeouts = 0


@dataclass
class Served:
    """The running servers and what the seeding made, for the bench to build its pages."""

    portal_port: int
    bare_port: int
    base_domain: str  # the portal's own host (/healthz answers there)
    agency_host: str
    cookie: str  # the signed-in admin's session cookie
    public_numbers: list[str]  # newest first
    staff_number: str
    log: Path  # the portal's output

    def bare_page(self) -> Page:
        return Page("bare Django hello-world", self.bare_port, "localhost", "/")

    def page(self, name: str, path: str, *more: str, staff: bool = False) -> Page:
        cookie = self.cookie if staff else ""
        return Page(name, self.portal_port, self.agency_host, path, cookie, list(more))


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A migrated database of its own (as the owner role), dropped at the end."""
    import django

    django.setup()
    from django.db import connection, connections
    from django.test.utils import setup_databases, setup_test_environment

    from tests.db_helpers import connected_as_owner

    setup_test_environment(debug=False)
    name = f"{prefix}_{os.getpid()}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        yield name
    finally:
        connections.close_all()
        teardown(db_cfg)


def teardown(db_cfg) -> None:
    """Drop the throw-away database, once the stopped web processes' sessions have ended
    (PostgreSQL ends a backend shortly after its client goes)."""
    from django.db.utils import OperationalError
    from django.test.utils import teardown_databases

    from tests.db_helpers import connected_as_owner

    for attempt in range(20):
        try:
            with connected_as_owner():
                teardown_databases(db_cfg, verbosity=0)
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.5)


def seed(extra: int):
    """The demo agencies, then ``extra`` requests in Springfield, each filed and two in three
    closed (released in full) through the services, so the archive lists and finds them.
    Returns the agency, its admin, the public request numbers (newest first) and a number in
    the admin's queue."""
    import datetime

    from django.core.management import call_command

    from accounts.local_time import agency_today
    from accounts.models import Agency, Membership, Role
    from accounts.tenancy import agency_context
    from requests_portal import access, queue_access
    from requests_portal.models import ClosureReason, Department
    from requests_portal.services import lifecycle, submission

    logging.getLogger("portal.tasks").setLevel(logging.WARNING)  # a line per email sent
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    agency = Agency.objects.get(slug="springfield")
    subjects = ["building permits", "police overtime", "snow removal", "the library renovation"]
    with agency_context(agency):
        admin = Membership.objects.filter(agency=agency, role=Role.ADMIN).first().user
        departments = list(Department.objects.filter(agency=agency))
        reason = ClosureReason.objects.get(agency=agency, name="Records released in full")
        today = agency_today(agency)
        for n in range(extra):
            subject = subjects[n % len(subjects)]
            made = submission.request_submit(
                agency=agency,
                actor=admin,
                title=f"Records about {subject}, set {n + 1}",
                description=f"All records, emails and reports about {subject} from last year.",
                contact=submission.Contact(name="A Resident", email=f"resident{n}@bench.test"),
                department=departments[n % len(departments)],
                channel="email",
                received_on=today - datetime.timedelta(days=n % 40),
            )
            if n % 3:
                lifecycle.request_close(
                    records_request=made, actor=admin, reason=reason, note="Released."
                )
        public = [r.number for r in access.public_requests(agency).order_by("-id")[:50]]
        staff_view = queue_access.staff_queue_for(admin, agency, {}, today=today).requests.first()
    return agency, admin, public, staff_view.number


def signed_in_session(agency, admin, secret_key: str) -> str:
    """A session key of the admin, two-factor passed (as after a real sign-in with the
    authenticator's code; the suite's helper), signed with the web process's key."""
    from django.conf import settings
    from django.test import Client, override_settings

    from tests.conftest import mark_fully_signed_in

    with override_settings(SECRET_KEY=secret_key):
        client = Client(HTTP_HOST=f"{agency.slug}.{settings.PORTAL_BASE_DOMAIN}")
        client.force_login(admin)
        mark_fully_signed_in(client)
        return client.session.session_key


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("the Procfile has no web process")


def start_process(command: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """The Procfile's command line through a shell, as Heroku runs it (its own process
    group, so it and its workers stop together)."""
    return subprocess.Popen(  # noqa: S602 (the Procfile's own line)  # nosec B602
        command,
        shell=True,
        cwd=cwd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_process(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def get(page: Page, path: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", page.port, timeout=30)
    try:
        headers = {"Host": page.host, "X-Forwarded-Proto": "https"}
        if page.cookie:
            headers["Cookie"] = page.cookie
        conn.request("GET", path or page.path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_answers(page: Page) -> None:
    """Each of the page's addresses answers 200 with content, not a redirect or an error, and
    a staff page shows the signed-in member (not the sign-in form)."""
    for path in [page.path, *page.more_paths]:
        status, body = get(page, path)
        if status != 200 or not body:
            raise SystemExit(f"{page.name} {path} answered {status}: {body[:500]!r}")
        if page.cookie and b"sign out" not in body.lower():
            raise SystemExit(f"{page.name}: not signed in: {body[:500]!r}")


def _until_up(page: Page, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        with contextlib.suppress(OSError):
            get(page)
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def wrk_run(
    wrk: str, page: Page, *, seconds: float, connections: int, folder: Path, timeout: int = 10
) -> None:
    """One bounded wrk run of the page over loopback; its figures are added to the page's."""
    script = folder / f"wrk-{abs(hash((page.name, page.path)))}.lua"
    rotate = ""
    if page.more_paths:
        quoted = ", ".join(f'"{p}"' for p in [page.path, *page.more_paths])
        rotate = WRK_ROTATE % quoted
    script.write_text(rotate + WRK_REPORT)
    headers = ["-H", f"Host: {page.host}", "-H", "X-Forwarded-Proto: https"]
    if page.cookie:
        headers += ["-H", f"Cookie: {page.cookie}"]
    done = subprocess.run(  # noqa: S603 (wrk, fixed arguments, loopback only)
        [
            wrk,
            *("-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s"),
            *("--timeout", f"{timeout}s", "-s", str(script), *headers),
            f"http://127.0.0.1:{page.port}{page.path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + timeout + 60,
        check=False,
    )
    match = WRK_FIGURES.search(done.stdout)
    if done.returncode or match is None:
        raise SystemExit(f"wrk printed no figures for {page.name}:\n{done.stdout}{done.stderr}")
    requests, duration, p50, p95, p99, status, socket, timeouts = match.groups()
    page.requests += int(requests)
    page.rates.append(int(requests) / float(duration))
    page.p50.append(int(p50) / 1000)
    page.p95.append(int(p95) / 1000)
    page.p99.append(int(p99) / 1000)
    page.status_errors += int(status)
    page.socket_errors += int(socket)
    page.timeouts += int(timeouts)


def server_trouble(log: Path, since: int = 0) -> list[str]:
    """The lines of a web process's output, from byte ``since``, that say something failed."""
    with log.open("rb") as output:
        output.seek(since)
        text = output.read().decode(errors="replace")
    return [line for line in text.splitlines() if SERVER_TROUBLE.search(line)]


def _collectstatic(env: dict[str, str]) -> None:
    began = time.perf_counter()
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if collect.returncode:
        raise SystemExit(f"collectstatic failed:\n{collect.stdout}{collect.stderr}")
    print(f"  collectstatic (as the build does) in {time.perf_counter() - began:.1f} s")


@contextlib.contextmanager
def serving(args: argparse.Namespace) -> Iterator[Served]:
    """Seed a throw-away database with ``args.requests`` requests, then run the Procfile's
    web process on it (``args.workers`` workers, production settings, a private TLS Redis as
    Heroku's) and the bare Django project under the same command; everything is stopped and
    dropped at the end."""
    with (
        throwaway_database(args.database_prefix) as database,
        tempfile.TemporaryDirectory(prefix="http-bench-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        began = time.perf_counter()
        agency, admin, public_numbers, staff_number = seed(args.requests)
        seeded_in = time.perf_counter() - began
        print(f"  seeded the demo agencies and {args.requests} requests in {seeded_in:.1f} s")
        with _servers(args.workers, database, tmp) as (portal_port, bare_port, secret_key):
            from tests.ops.production import BASE_DOMAIN

            session = signed_in_session(agency, admin, secret_key)
            yield Served(
                portal_port,
                bare_port,
                BASE_DOMAIN,
                f"{agency.slug}.{BASE_DOMAIN}",
                f"__Host-sessionid={session}",
                public_numbers,
                staff_number,
                tmp / "portal.log",
            )


@contextlib.contextmanager
def _servers(workers: int, database: str, tmp: Path) -> Iterator[tuple[int, int, str]]:
    from tests.idp._process import free_port
    from tests.ops.production import BASE_DOMAIN, production_env
    from tests.ops.services import start_tls_redis

    secret_key = secrets.token_urlsafe(64)
    redis_server = start_tls_redis(tmp / "redis")
    processes: list[subprocess.Popen] = []
    try:
        portal_port, bare_port = free_port(), free_port()
        bin_dir = Path(sys.executable).parent
        env = production_env(
            database,
            SECRET_KEY=secret_key,
            REDIS_URL=redis_server.url,
            REDIS_SSL_CERT_REQS="none",
            WEB_CONCURRENCY=str(workers),
            GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{portal_port}",
            PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=str(ROOT),
        )
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
        _collectstatic(env)
        web = procfile_web()
        processes.append(start_process(web, env, ROOT, tmp / "portal.log"))

        bare_dir = tmp / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_settings.py").write_text(BARE_SETTINGS)
        (bare_dir / "bare_urls.py").write_text(BARE_URLS)
        (bare_dir / "bare_wsgi.py").write_text(BARE_WSGI)
        bare_env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PORTAL_", "DATABASE_"))
        }
        bare_env.update(
            WEB_CONCURRENCY=str(workers),
            GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{bare_port}",
            PATH=env["PATH"],
            PYTHONPATH=str(bare_dir),
            DJANGO_SETTINGS_MODULE="bare_settings",
        )
        bare_web = web.replace("config.wsgi", "bare_wsgi", 1)
        processes.append(start_process(bare_web, bare_env, bare_dir, tmp / "bare.log"))
        _until_up(
            Page("/healthz", portal_port, BASE_DOMAIN, "/healthz"), processes[0], tmp / "portal.log"
        )
        _until_up(Page("bare", bare_port, "localhost", "/"), processes[1], tmp / "bare.log")
        yield portal_port, bare_port, secret_key
    finally:
        for process in processes:
            stop_process(process)
        redis_server.stop()
