"""HTTP benchmark: what one web process of the Procfile serves, against bare Django's ceiling.

On a throw-away database (created as the owner role, used as the app role, dropped at the
end), seeded with the demo agency and ``--requests`` more requests filed and closed through
the portal's own services (so they reach the public archive), this starts:

- the portal's ``web`` process exactly as the Procfile writes it (gunicorn, ``--workers
  ${WEB_CONCURRENCY:-2} --max-requests 1000 --max-requests-jitter 100``) under production
  settings (``PORTAL_ENV=production``, ``DEBUG`` off, WhiteNoise serving the collected static
  files, Redis for the cache: a private TLS redis-server, as Heroku's);
- a bare Django project with one hello-world view and startproject's middleware, under the
  same gunicorn command (the framework's ceiling on this machine);

then loads each page with ``wrk`` (Debian's) over loopback: ``--connections`` connections on
two threads for ``--seconds`` each, in ``--rounds`` interleaved rounds (bare Django, then
every page, then again), so a busy shared machine skews every line alike. Each line is the
median of the rounds: requests/s, latency p50/p95/p99 and requests/s as a ratio to the bare
view (the issue's targets next to it). Staff pages are requested by an agency admin whose
session passed two-factor, so every request records its page-view audit event.
Every process it starts is stopped at the end; each wrk run is bounded by its duration.

    make bench-http
    .venv/bin/python bench/http_bench.py --seconds 2 --rounds 1   (a quick look)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The targets, as ratios to the bare view's requests/s.
TARGETS = {
    "agency home": 0.5,
    "request form": 0.25,
    "public request page": 0.25,
    "archive search, rare term": 0.25,
    "archive search, common term": 0.25,
    "archive listing": 0.25,
    "staff queue": 0.15,
    "staff request page": 0.15,
}
RARE_TERM = "monorail"  # one demo request's title
COMMON_TERM = "records"  # in every seeded request
START_SECONDS = 60

# wrk prints these from its done() hook: requests, seconds, latency percentiles (us), errors.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %.6f %d %d %d %d %d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""

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


@dataclass
class Page:
    name: str
    port: int
    host: str
    path: str
    cookie: str = ""
    rates: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    errors: int = 0


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--requests", type=int, default=60, help="extra requests to seed")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk not found: scripts/ensure-system-packages test installs it (Debian).")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment

    from tests.db_helpers import connected_as_owner

    started = time.perf_counter()
    setup_test_environment(debug=False)
    name = f"bench_http_{os.getpid()}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        with tempfile.TemporaryDirectory(prefix="http-bench-") as tmp:
            run(args, wrk, name, Path(tmp))
    finally:
        from django.db import connections

        connections.close_all()
        teardown(db_cfg)
    print(f"Whole run, set-up and tear-down included: {time.perf_counter() - started:.0f} s")


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
    """The demo agencies, then ``extra`` requests in Springfield, each filed and closed
    (released in full) through the services, so the archive lists and finds them."""
    import datetime

    from django.core.management import call_command

    from accounts.local_time import agency_today
    from accounts.models import Agency, Membership, Role
    from accounts.tenancy import agency_context
    from requests_portal import access
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
        public = access.public_requests(agency).order_by("-id").first()
        staff_view = access.staff_queue_for(admin, agency, {}, today=today).requests.first()
    return agency, admin, public.number, staff_view.number


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


def _procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("the Procfile has no web process")


def _start(command: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
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


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def get(page: Page) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", page.port, timeout=30)
    try:
        headers = {"Host": page.host, "X-Forwarded-Proto": "https"}
        if page.cookie:
            headers["Cookie"] = page.cookie
        conn.request("GET", page.path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _until_up(page: Page, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        with contextlib.suppress(OSError):
            get(page)
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def load(wrk: str, page: Page, args, script: Path) -> None:
    headers = ["-H", f"Host: {page.host}", "-H", "X-Forwarded-Proto: https"]
    if page.cookie:
        headers += ["-H", f"Cookie: {page.cookie}"]
    done = subprocess.run(  # noqa: S603 (wrk, fixed arguments, loopback only)
        [
            wrk,
            *("-t", "2", "-c", str(args.connections), "-d", f"{max(1, round(args.seconds))}s"),
            *("--timeout", "10s", "-s", str(script), *headers),
            f"http://127.0.0.1:{page.port}{page.path}",
        ],
        capture_output=True,
        text=True,
        timeout=args.seconds + 60,
        check=False,
    )
    match = re.search(r"^BENCH (\d+) ([\d.]+) (\d+) (\d+) (\d+) (\d+) (\d+)$", done.stdout, re.M)
    if done.returncode or match is None:
        raise SystemExit(f"wrk printed no figures for {page.name}:\n{done.stdout}{done.stderr}")
    requests, seconds, p50, p95, p99, status_errors, socket_errors = match.groups()
    page.rates.append(int(requests) / float(seconds))
    page.p50.append(int(p50) / 1000)
    page.p95.append(int(p95) / 1000)
    page.p99.append(int(p99) / 1000)
    page.errors += int(status_errors) + int(socket_errors)


def run(args, wrk: str, database: str, tmp: Path) -> None:
    from tests.idp._process import free_port
    from tests.ops.production import BASE_DOMAIN, production_env
    from tests.ops.services import start_tls_redis

    print(
        f"HTTP benchmark: wrk, {args.connections} connections, {args.seconds:g} s per page, "
        f"{args.rounds} interleaved rounds, gunicorn as the Procfile (WEB_CONCURRENCY="
        f"{args.workers}); {os.cpu_count()} CPUs, load average {_load()} at start"
    )
    began = time.perf_counter()
    agency, admin, public_number, staff_number = seed(args.requests)
    seeded_in = time.perf_counter() - began
    print(f"  seeded the demo agencies and {args.requests} requests in {seeded_in:.1f} s")
    secret_key = secrets.token_urlsafe(64)
    session = signed_in_session(agency, admin, secret_key)

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
            WEB_CONCURRENCY=str(args.workers),
            GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{portal_port}",
            PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=str(ROOT),
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
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
        web = _procfile_web()
        processes.append(_start(web, env, ROOT, tmp / "portal.log"))

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
            WEB_CONCURRENCY=str(args.workers),
            GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{bare_port}",
            PATH=env["PATH"],
            PYTHONPATH=str(bare_dir),
            DJANGO_SETTINGS_MODULE="bare_settings",
        )
        bare_web = web.replace("config.wsgi", "bare_wsgi", 1)
        processes.append(_start(bare_web, bare_env, bare_dir, tmp / "bare.log"))

        agency_host = f"{agency.slug}.{BASE_DOMAIN}"
        cookie = f"{'__Host-sessionid'}={session}"
        bare = Page("bare Django hello-world", bare_port, "localhost", "/")
        pages = [
            bare,
            Page("/healthz", portal_port, BASE_DOMAIN, "/healthz"),
            Page("agency home", portal_port, agency_host, "/"),
            Page("request form", portal_port, agency_host, "/requests/new/"),
            Page("public request page", portal_port, agency_host, f"/requests/{public_number}/"),
            Page(
                "archive search, rare term",
                portal_port,
                agency_host,
                "/archive/?" + urlencode({"q": RARE_TERM}),
            ),
            Page(
                "archive search, common term",
                portal_port,
                agency_host,
                "/archive/?" + urlencode({"q": COMMON_TERM}),
            ),
            Page("archive listing", portal_port, agency_host, "/archive/"),
            Page("staff queue", portal_port, agency_host, "/staff/requests/", cookie),
            Page(
                "staff request page",
                portal_port,
                agency_host,
                f"/staff/requests/{staff_number}/",
                cookie,
            ),
        ]
        _until_up(pages[1], processes[0], tmp / "portal.log")
        _until_up(bare, processes[1], tmp / "bare.log")
        for page in pages:  # each must answer 200 with content, not a redirect or an error
            status, body = get(page)
            if status != 200 or not body:
                raise SystemExit(f"{page.name} {page.path} answered {status}: {body[:500]!r}")
            if page.cookie and b"Sign out" not in body and b"sign out" not in body.lower():
                raise SystemExit(f"{page.name}: not signed in: {body[:500]!r}")
        script = tmp / "report.lua"
        script.write_text(WRK_REPORT)
        load(wrk, bare, argparse.Namespace(**{**vars(args), "seconds": 1}), script)  # warm-up
        bare.rates.clear()
        bare.p50.clear()
        bare.p95.clear()
        bare.p99.clear()
        for round_number in range(args.rounds):
            for page in pages:
                load(wrk, page, args, script)
            for page in pages:
                page.ratios.append(page.rates[-1] / bare.rates[-1])
            print(f"  round {round_number + 1} done; load average {_load()}")
        report(pages)
    finally:
        for process in processes:
            _stop(process)
        redis_server.stop()


def report(pages: list[Page]) -> None:
    print(
        f"  {'page':<30} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'x bare':>7}  target"
    )
    verdicts = []
    for page in pages:
        ratio = statistics.median(page.ratios)
        target = TARGETS.get(page.name)
        verdict = ""
        if target is not None:
            met = ratio >= target
            verdicts.append(met)
            verdict = f">= {target:.2f} {'met' if met else f'MISSED by {target - ratio:.2f}'}"
        errors = f"  ({page.errors} errors)" if page.errors else ""
        print(
            f"  {page.name:<30} {statistics.median(page.rates):8,.0f} "
            f"{statistics.median(page.p50):8.1f} {statistics.median(page.p95):8.1f} "
            f"{statistics.median(page.p99):8.1f} {ratio:7.2f}  {verdict}{errors}"
        )
    print(f"Targets met: {sum(verdicts)} of {len(verdicts)}; load average now {_load()}")


if __name__ == "__main__":
    main()
