"""Load run (issue 16): a crowd on the public pages and the staff queue, with zero errors.

The same servers as the HTTP benchmark (bench/http_harness.py): on a throw-away database
seeded with the bench dataset (the demo agencies and ``--requests`` more requests filed and
closed through the services), the Procfile's ``web`` process under production settings
(gunicorn, ``WEB_CONCURRENCY`` workers, ``DEBUG`` off, a private TLS Redis) and a bare Django
hello-world under the same gunicorn command. Then ``wrk`` puts ``--connections`` concurrent
connections (64 by default) on each page in turn for ``--seconds`` (60 by default), over
loopback only:

- the agency home and the request form;
- public request pages (each connection takes the newest 50 public requests in turn);
- archive search (rare, medium and common terms in turn) and the archive listing (pages 1 and 2);
- the staff queue (default view, every status, newest first, "mine", a search), requested by
  an agency admin whose session passed two-factor, so each request records its audit event.

The bare view is loaded first and last; each page's requests/s is divided by the mean of the
two (a shared machine drifts) and held to the fast-pages targets (issue 15): home >= 0.5; form,
public request, search and listing >= 0.25; staff queue >= 0.15. Each line says PASS or MISS.

Errors fail the run (exit 1): a response outside 2xx/3xx, a socket error, a wrk timeout
(``--timeout``), a page that stops answering 200 (or the staff session that stops being
signed in) after its load, or the web process writing a traceback, an ERROR line or a worker
timeout. Misses are printed and fail the run only with ``--strict``. Every process it starts
is stopped at the end; each wrk run is bounded by its duration.

    make bench-load
    .venv/bin/python bench/load_bench.py --seconds 10 --connections 16   (a quick look)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench import http_harness as harness  # noqa: E402  (after the path is set)

# The fast-pages targets (issue 15), as ratios to the bare view's requests/s.
TARGETS = {
    "agency home": 0.5,
    "request form": 0.25,
    "public request pages": 0.25,
    "archive search": 0.25,
    "archive listing": 0.25,
    "staff queue": 0.15,
}
SEARCH_TERMS = [harness.RARE_TERM, "permits", harness.COMMON_TERM, "snow removal"]
STAFF_QUEUE_VIEWS = ["", "status=any", "sort=newest", "scope=mine", "q=permits"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="load on each page")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument("--warm-up", type=int, default=2, help="seconds of load before each")
    parser.add_argument("--timeout", type=int, default=10, help="seconds before wrk gives up")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument(
        "--requests", type=int, default=harness.SEED_REQUESTS, help="extra requests to seed"
    )
    parser.add_argument("--strict", action="store_true", help="a missed target fails the run")
    args = parser.parse_args()
    args.database_prefix = "bench_load"
    if not 1 <= args.connections <= 1024 or not 1 <= args.seconds <= 600:
        parser.error("keep it bounded: 1-1024 connections, 1-600 seconds")
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk not found: scripts/ensure-system-packages test installs it (Debian).")

    started = time.perf_counter()
    bounded = (len(TARGETS) + 2) * (args.seconds + args.warm_up)
    print(
        f"Load run: wrk, {args.connections} connections for {args.seconds} s on each page "
        f"(about {bounded // 60} min {bounded % 60} s of load), gunicorn as the Procfile "
        f"(WEB_CONCURRENCY={args.workers}); {os.cpu_count()} CPUs, load average "
        f"{harness.load_average()} at start"
    )
    with harness.serving(args) as served, tempfile.TemporaryDirectory() as tmp:
        pages, trouble = run(args, wrk, served, Path(tmp))
    errors, misses = report(pages, trouble)
    print(f"Whole run, set-up and tear-down included: {time.perf_counter() - started:.0f} s")
    if errors:
        sys.exit(f"FAIL: {errors} errors under load")
    if misses and args.strict:
        sys.exit(f"FAIL (--strict): {misses} targets missed")


def pages_of(served: harness.Served) -> list[harness.Page]:
    public = [f"/requests/{number}/" for number in served.public_numbers]
    search = ["/archive/?" + urlencode({"q": term}) for term in SEARCH_TERMS]
    listing = ["/archive/", "/archive/?page=2"]
    queue = [
        f"/staff/requests/?{view}" if view else "/staff/requests/" for view in STAFF_QUEUE_VIEWS
    ]
    return [
        served.page("agency home", "/"),
        served.page("request form", "/requests/new/"),
        served.page("public request pages", *public),
        served.page("archive search", *search),
        served.page("archive listing", *listing),
        served.page("staff queue", *queue, staff=True),
    ]


def run(args, wrk: str, served: harness.Served, tmp: Path) -> tuple[list[harness.Page], list[str]]:
    """Loads the bare view, each page, then the bare view again; returns the pages (the
    first and last are the bare view's two runs) and the web process's trouble lines."""
    before, after = served.bare_page(), served.bare_page()
    pages = pages_of(served)
    for page in pages:
        harness.check_answers(page)
    options = {"connections": args.connections, "folder": tmp, "timeout": args.timeout}
    trouble: list[str] = []
    for page in [before, *pages, after]:
        if args.warm_up:
            harness.wrk_run(wrk, page, seconds=args.warm_up, **options)
            page.forget()
        logged = served.log.stat().st_size
        harness.wrk_run(wrk, page, seconds=args.seconds, **options)
        trouble += [f"{page.name}: {line}" for line in harness.server_trouble(served.log, logged)]
        try:
            harness.check_answers(page)
        except SystemExit as answered:
            trouble.append(f"after its load, {answered}")
        print(
            f"  {page.name}: {page.requests:,} requests, {page.errors} errors; "
            f"load average {harness.load_average()}"
        )
    bare_rate = statistics.mean([before.rates[0], after.rates[0]])
    for page in pages:
        page.ratios.append(page.rates[0] / bare_rate)
    before.name, after.name = "bare Django, first", "bare Django, last"
    return [before, *pages, after], trouble


def report(pages: list[harness.Page], trouble: list[str]) -> tuple[int, int]:
    """Prints the table and the verdicts; returns the errors and the targets missed."""
    print(
        f"  {'page':<24} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'x bare':>7}  {'target':<8} {'errors (status/socket/timeout)'}"
    )
    misses = []
    for page in pages:
        target = TARGETS.get(page.name)
        ratio, verdict = "", ""
        if target is not None:
            met = page.ratios[0] >= target
            ratio = f"{page.ratios[0]:.2f}"
            verdict = f">= {target:.2f} {'PASS' if met else 'MISS'}"
            if not met:
                misses.append(f"{page.name} {page.ratios[0]:.2f} < {target:.2f}")
        print(
            f"  {page.name:<24} {page.requests:>9,} {page.rates[0]:>7,.0f} {page.p50[0]:>8.1f} "
            f"{page.p95[0]:>8.1f} {page.p99[0]:>8.1f} {ratio:>7}  {verdict:<10} "
            f"{page.errors} ({page.status_errors}/{page.socket_errors}/{page.timeouts})"
        )
    errors = sum(page.errors for page in pages) + len(trouble)
    for line in trouble[:20]:
        print(f"  server trouble: {line[:300]}")
    print(f"Errors: {errors} ({'PASS' if not errors else 'FAIL'})")
    met = len(TARGETS) - len(misses)
    print(
        f"Targets met: {met} of {len(TARGETS)}"
        + (f"; MISSED: {'; '.join(misses)}" if misses else "")
    )
    print(f"Load average now {harness.load_average()}")
    return errors, len(misses)


if __name__ == "__main__":
    main()
