"""Every benchmark under bench/ still runs to the end: each is started at a tiny scale, in a
process of its own as `make bench-*` starts it, and must exit 0 having printed its figures.

A benchmark that no longer runs (a model gained a column its seeding does not fill, a page
it times now redirects) fails here rather than on the day someone needs its numbers. The
figures themselves are meaningless at this scale; only that they appear is checked. Each
benchmark's throw-away database is a copy of one migrated here once (creating and migrating
one is most of a tiny run; tests/db_helpers.py, PORTAL_BENCH_TEMPLATE_DATABASE), and the
runs go two at a time.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.db_helpers import BENCH_TEMPLATE_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
TIMEOUT_SECONDS = 600
AT_ONCE = 2
# Migrates a database the benchmarks' databases are copied from (and leaves it in place).
MAKE_TEMPLATE = """
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.db import connection
from django.test.utils import setup_databases
from tests.db_helpers import connected_as_owner
connection.settings_dict.setdefault("TEST", {})["NAME"] = sys.argv[1]
with connected_as_owner():
    setup_databases(verbosity=0, interactive=False, aliases={"default"})
connection.close()
"""

# Each benchmark script, its tiny-scale arguments, and a line its figures must print.
TINY: dict[str, tuple[list[str], str]] = {
    "run.py": (["--requests", "5", "--events", "20"], r"audit_verify +\d+ events/s"),
    "audit_bench.py": (
        ["--rounds", "5", "--seconds", "0.5", "--writers", "2", "--agencies", "2"],
        r"every chain verified afterwards: intact",
    ),
    "audit_verify_bench.py": (
        ["--events", "300", "--agencies", "1", "--rounds", "1", "--seal-every", "100"],
        r"audit_verify, all chains against their seals +\d+ events/s",
    ),
    "audit_viewer_bench.py": (
        ["--events", "2000", "--agencies", "2", "--requests", "3", "--seeders", "1"],
        r"Target p95 <= \d+ ms",
    ),
    "api_bench.py": (
        ["--requests", "400", "--agencies", "2", "--samples", "5", "--seconds", "1", "--jobs", "1"],
        r"Target ratio >= [\d.]+x",
    ),
    "backup_bench.py": (["--size-mb", "2", "--rounds", "1"], r"targets: backup"),
    "documents_bench.py": (
        ["--sizes", "64K", "--no-segments", "--no-prime", "--openssl-seconds", "1"],
        r"64 KiB segments +encrypt +\d+ MB/s",
    ),
    "login_bench.py": (
        ["--logins", "2", "--seconds", "0.5", "--requests", "5"],
        r"2 threads +\d+ sign-ins +[\d.]+ /s",
    ),
    "redaction_bench.py": (["--pages", "1", "--dpi", "150", "--workers", "1"], r"\d+ ms"),
    "signin_memory_bench.py": (
        ["--sign-ins", "6", "--bursts", "1", "--procfile-only"],
        r"after: +m=19 MiB t=2 p=1, cap +\d+ MB",
    ),
    "requests_bench.py": (
        ["--requests", "400", "--agencies", "2", "--samples", "5"],
        r"staff queue, default .* p95 +[\d.]+ ms",
    ),
    "http_bench.py": (
        ["--seconds", "1", "--rounds", "1", "--connections", "4", "--requests", "6"],
        r"agency home +[\d,]+ +[\d.]+ +[\d.]+",
    ),
    "load_bench.py": (
        ["--seconds", "1", "--connections", "4", "--warm-up", "0", "--requests", "6"],
        r"staff queue +[\d,]+ +[\d,]+ .*>= 0\.15 (PASS|MISS)[\s\S]*Errors: 0 \(PASS\)",
    ),
}
# Modules under bench/ that are parts of a benchmark, not benchmarks.
HELPERS = {
    "audit_legacy_append.py",
    "audit_legacy_search.py",
    "api_bench_urls.py",  # the bare DRF view api_bench.py measures against
    "api_bench_wsgi.py",
    "http_harness.py",  # the servers and wrk runs http_bench.py and load_bench.py share
}


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float


def _run(script: str, template: str) -> Run:
    arguments, _ = TINY[script]
    started = time.monotonic()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", BENCH_TEMPLATE_VARIABLE: template}
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and benchmark)
            [sys.executable, str(BENCH / script), *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout or ""
        text = out.decode(errors="replace") if isinstance(out, bytes) else out
        return Run(-1, text + f"\n(timed out after {TIMEOUT_SECONDS} s)", TIMEOUT_SECONDS)
    return Run(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def _owner(dbname: str) -> psycopg.Connection:
    owner = settings.PORTAL_OWNER_DATABASE
    params = {
        "dbname": dbname,
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner.get("HOST") or None,
        "port": owner.get("PORT") or None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    template = f"bench_template_{os.getpid()}"
    made = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", MAKE_TEMPLATE, template],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    try:
        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            # The slowest first, so the pool finishes together.
            slowest = {"http_bench.py", "load_bench.py", "login_bench.py"}
            order = sorted(TINY, key=lambda s: s not in slowest)
            results = pool.map(lambda script: _run(script, template), order)
            return dict(zip(order, results, strict=True))
    finally:
        with _owner(settings.PORTAL_OWNER_DATABASE["NAME"]) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}"')


def test_every_benchmark_is_smoke_run():
    scripts = {path.name for path in BENCH.glob("*.py")} - HELPERS
    assert scripts == set(TINY), "add the new benchmark's tiny-scale arguments to TINY"


def test_make_bench_all_runs_every_benchmark():
    """scripts/bench-all (make bench-all) has reduced-scale arguments for exactly these."""
    path = ROOT / "scripts" / "bench-all"
    loader = importlib.machinery.SourceFileLoader("bench_all", str(path))
    spec = importlib.util.spec_from_loader("bench_all", loader)
    assert spec is not None
    bench_all = importlib.util.module_from_spec(spec)
    loader.exec_module(bench_all)
    assert set(bench_all.REDUCED) == set(TINY)
    assert bench_all.HELPERS == HELPERS


@pytest.mark.parametrize("script", sorted(TINY))
def test_the_benchmark_runs_to_the_end_and_prints_its_figures(script, runs):
    run = runs[script]
    tail = run.output[-4000:]
    ended = f"{script} exited {run.returncode} after {run.seconds:.0f} s"
    assert run.returncode == 0, f"{ended}:\n{tail}"
    assert re.search(TINY[script][1], run.output), f"{script} printed no figures:\n{tail}"
