"""REST API benchmark (issue 14): the data endpoints on the requests bench's dataset.

Seeds the same throw-away database as bench/requests_bench.py (its ``seed``: ``--requests``
requests over ``--agencies`` agencies; 1,000,000 by default, ``--requests 20000`` for a quick
run), then:

1. Latency, in-process through Django's test client (the full middleware stack), of the list
   and search endpoints: open data's requests (first page, a deep page by key, a filter,
   full-text search with rare, medium and common terms), its documents, a request's open-data
   page, and as an agency admin the departments, people, invoices and audit-event lists.
   Target: p95 <= 50 ms each.
2. Throughput of one gunicorn process (one sync worker, as a dyno runs it) serving the public
   open-data list, as a ratio to a bare DRF view (a hello-world APIView behind the same
   middleware) in the same run, measured with wrk. Target: >= 0.5x.

Prints p50/p95, requests/s, peak memory (this process and the gunicorn worker) and the ratio,
with the load average (the machine may be shared).

    make bench-api
    .venv/bin/python bench/api_bench.py --requests 20000 --agencies 5   (a quick check)
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The in-process latency part sends thousands of requests a minute from one address: past
# the per-address limit (2,400/min) an endpoint would answer 429. Raised before settings load,
# as for the gunicorn part below; every request still counts in the throttle's cache.
os.environ.setdefault("API_THROTTLE_ADDRESS", "100000000/min")
os.environ.setdefault("API_THROTTLE_TOKEN", "100000000/min")  # a rate, not a secret

from bench import requests_bench as base  # noqa: E402  (after the path is set)

LATENCY_TARGET_MS = 50.0
RATIO_TARGET = 0.5
HELLO_PATH = "/api/v1/bench-hello/"
OPEN_LIST_PATH = "/api/v1/open-data/requests/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests to seed")
    parser.add_argument("--agencies", type=int, default=50, help="agencies to spread them over")
    parser.add_argument("--samples", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--seconds", type=int, default=10, help="wrk run per endpoint")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="seeding connections"
    )
    parser.add_argument("--layout", choices=["arrival", "agency"], default="arrival")
    args = parser.parse_args()
    if args.agencies < 2 or args.requests < args.agencies * 100:
        parser.error("need at least 2 agencies and 100 requests per agency")

    import django

    django.setup()
    from django.db import connection, connections
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    import config.urls  # noqa: F401  (imported before seeding)
    from tests.db_helpers import connected_as_owner

    setup_test_environment(debug=False)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_api_{os.getpid()}"
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        print(
            f"API benchmark: {args.requests:,} requests over {args.agencies} agencies, "
            f"{args.samples} samples per endpoint; {os.cpu_count()} CPUs, "
            f"load average {base._load()}"
        )
        world = base.seed(args)
        latency(args, world)
        throughput(args, world, connection.settings_dict["NAME"])
    finally:
        connections.close_all()
        with connected_as_owner():
            teardown_databases(db_cfg, verbosity=0)
        print("Throw-away database dropped.")


def latency(args, world) -> None:
    from django.test import Client

    from accounts.tenancy import agency_context
    from api.open_data import records
    from requests_portal.models import RecordsRequest
    from tests.conftest import mark_fully_signed_in

    public_agency, staff_agency = world.search.agency, world.queue.agency
    with agency_context(public_agency):
        numbers = [
            RecordsRequest.number_of(r["year"], r["sequence"])
            for r in records.public_requests(public_agency)[:2000:40]
        ]
    middle = numbers[len(numbers) // 2]
    anonymous = Client(HTTP_HOST=f"{public_agency.slug}.{world.platform_host}")
    admin = Client(HTTP_HOST=f"{staff_agency.slug}.{world.platform_host}")
    admin.force_login(world.queue_admin)
    mark_fully_signed_in(admin)

    n = args.samples
    results = []

    def run(client, name: str, paths: list[str]) -> None:
        result = base.time_pages(client, name, paths, n, LATENCY_TARGET_MS)
        base.report(result, baseline.p50)
        results.append(result)

    # The request log line of every measured request would drown the report.
    logging.getLogger("portal.requests").setLevel(logging.WARNING)
    print("Latency (in-process test client, full middleware stack):")
    platform = Client(HTTP_HOST=world.platform_host)
    baseline = base.time_pages(platform, "platform /healthz (baseline: SELECT 1)", ["/healthz"], n)
    base.report(baseline, None)
    run(anonymous, "open data: requests, first page", [OPEN_LIST_PATH])
    run(anonymous, "open data: requests, by key (after=)", [f"{OPEN_LIST_PATH}?after={middle}"])
    run(anonymous, "open data: requests, status=closed", [f"{OPEN_LIST_PATH}?status=closed"])
    for kind, terms in base.SEARCH_TERMS.items():
        paths = [f"{OPEN_LIST_PATH}?{urlencode({'q': term})}" for term in terms]
        run(anonymous, f"open data: search, {kind} terms", paths)
    run(
        anonymous,
        "open data: one request",
        [f"/api/v1/open-data/requests/{number}/" for number in numbers],
    )
    run(anonymous, "open data: documents", ["/api/v1/open-data/documents/"])
    for kind, terms in base.SEARCH_TERMS.items():
        paths = [f"/api/v1/requests/?{urlencode({'q': term})}" for term in terms]
        run(admin, f"requests (admin, the queue): search, {kind} terms", paths)
    run(admin, "requests (admin, the queue), first page", ["/api/v1/requests/"])
    run(admin, "departments (admin)", ["/api/v1/departments/"])
    run(admin, "people (admin)", ["/api/v1/people/"])
    run(admin, "invoices (admin)", ["/api/v1/invoices/"])
    run(admin, "audit events (admin)", ["/api/v1/audit-events/"])
    worst = max(results, key=lambda r: r.p95)
    verdict = "MISS" if any(r.missed for r in results) else "PASS"
    print(
        f"Target list/search p95 <= {LATENCY_TARGET_MS:.0f} ms: {verdict} "
        f"(worst p95 {worst.p95:.1f} ms: {worst.name})"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of the benchmark process: {peak_mb:.0f} MB")


# --- Throughput: one gunicorn process ------------------------------------------------------


def _database_url(settings_dict: dict, name: str) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    secret = f":{quote(password, safe='')}" if password else ""
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{secret}@{host}{port}/{name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_peak_mb(master_pid: int) -> float:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peak = 0.0
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peak = max(peak, int(match.group(1)) / 1024)
    return peak


def _wrk(port: int, host: str, path: str, seconds: int) -> float:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed for the throughput part (apt-get install wrk)")
    run = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            wrk,
            "-t1",
            "-c2",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-H",
            f"Host: {host}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in run.stdout:
        raise SystemExit(f"{path} answered errors under load:\n{run.stdout}")
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", run.stdout).group(1))
    if rate == 0:
        raise SystemExit(f"{path} answered nothing under load:\n{run.stdout}")
    return rate


def _until_ready(port: int, host: str, path: str, server) -> None:
    """The worker loads the portal on its first request: wait for a 200 before timing."""
    deadline = time.monotonic() + 120
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": host})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit(f"gunicorn did not answer {path}")
        time.sleep(0.5)


def throughput(args, world, database_name: str) -> None:
    from django.conf import settings

    host = f"{world.search.agency.slug}.{world.platform_host}"
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=_database_url(settings.PORTAL_OWNER_DATABASE, database_name),
        DATABASE_APP_URL=_database_url(settings.PORTAL_APP_DATABASE, database_name),
        DATABASE_SSLMODE="disable",
        # One client address sends every request: the per-address limit (40/s by default)
        # would answer 429 past it. Raised, not removed: both views still count every request
        # in the shared cache, the round trips a real request pays.
        API_THROTTLE_ADDRESS="100000000/min",
        API_THROTTLE_TOKEN="100000000/min",  # noqa: S106 (a rate, not a secret)
        PYTHONPATH=str(ROOT),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [
            str(gunicorn),
            "--workers=1",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
            "bench.api_bench_wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        # Its request log (a line per request) would drown the report; errors show in it.
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for path in (HELLO_PATH, OPEN_LIST_PATH):
            _until_ready(port, host, path, server)
        for path in (HELLO_PATH, OPEN_LIST_PATH):
            _wrk(port, host, path, 2)  # warm-up: imports, connections, caches
        hello, open_data = [], []
        for _ in range(2):  # alternated, so a burst of other work hits both alike
            hello.append(_wrk(port, host, HELLO_PATH, args.seconds))
            open_data.append(_wrk(port, host, OPEN_LIST_PATH, args.seconds))
        worker_mb = _worker_peak_mb(server.pid)
    except BaseException:
        log.seek(0)
        print(log.read()[-4000:].decode(errors="replace"))
        raise
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    best_hello, best_open = max(hello), max(open_data)
    ratio = best_open / best_hello
    print("Throughput, one gunicorn sync worker, wrk -t1 -c2 (best of 2 alternated runs):")
    print(f"  bare DRF view (hello world):        {best_hello:8.1f} requests/s  {hello}")
    print(f"  open data, requests first page:     {best_open:8.1f} requests/s  {open_data}")
    print(f"  gunicorn worker peak RSS: {worker_mb:.0f} MB; load average now {base._load()}")
    verdict = "PASS" if ratio >= RATIO_TARGET else "MISS"
    print(f"Target ratio >= {RATIO_TARGET:.1f}x: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
