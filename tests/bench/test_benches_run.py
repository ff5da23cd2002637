"""Every benchmark under bench/ still runs to the end: each is started at a tiny scale, in a
process of its own as `make bench-*` starts it, and must exit 0 having printed its figures.

A benchmark that no longer runs (a model gained a column its seeding does not fill, a page
it times now redirects) fails here rather than on the day someone needs its numbers. The
figures themselves are meaningless at this scale; only that they appear is checked. The
runs go three at a time (most of each is creating and migrating its throw-away database).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
TIMEOUT_SECONDS = 240
AT_ONCE = 3

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
    "requests_bench.py": (
        ["--requests", "400", "--agencies", "2", "--samples", "5"],
        r"staff queue, default .* p95 +[\d.]+ ms",
    ),
    "http_bench.py": (
        ["--seconds", "1", "--rounds", "1", "--connections", "4", "--requests", "6"],
        r"agency home +[\d,]+ +[\d.]+ +[\d.]+",
    ),
}
# Modules under bench/ that are parts of a benchmark, not benchmarks.
HELPERS = {"audit_legacy_append.py", "audit_legacy_search.py"}


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float


def _run(script: str) -> Run:
    arguments, _ = TINY[script]
    started = time.monotonic()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        # The slowest first, so the pool finishes together.
        order = sorted(TINY, key=lambda s: s not in {"login_bench.py", "documents_bench.py"})
        return dict(zip(order, pool.map(_run, order), strict=True))


def test_every_benchmark_is_smoke_run():
    scripts = {path.name for path in BENCH.glob("*.py")} - HELPERS
    assert scripts == set(TINY), "add the new benchmark's tiny-scale arguments to TINY"


@pytest.mark.parametrize("script", sorted(TINY))
def test_the_benchmark_runs_to_the_end_and_prints_its_figures(script, runs):
    run = runs[script]
    tail = run.output[-4000:]
    ended = f"{script} exited {run.returncode} after {run.seconds:.0f} s"
    assert run.returncode == 0, f"{ended}:\n{tail}"
    assert re.search(TINY[script][1], run.output), f"{script} printed no figures:\n{tail}"
