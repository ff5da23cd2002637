"""HTTP benchmark: what one web process of the Procfile serves, against bare Django's ceiling.

On a throw-away database (created as the owner role, used as the app role, dropped at the
end), seeded with the demo agency and ``--requests`` more requests filed and closed through
the portal's own services (so they reach the public archive), this starts:

- the portal's ``web`` process exactly as the Procfile writes it (gunicorn, ``--workers
  ${WEB_CONCURRENCY:-2} --max-requests 100000 --max-requests-jitter 10000``) under production
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
The machinery is shared with the load run (bench/http_harness.py).

    make bench-http
    .venv/bin/python bench/http_bench.py --seconds 2 --rounds 1   (a quick look)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument(
        "--requests", type=int, default=harness.SEED_REQUESTS, help="extra requests to seed"
    )
    args = parser.parse_args()
    args.database_prefix = "bench_http"
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk not found: scripts/ensure-system-packages test installs it (Debian).")

    started = time.perf_counter()
    print(
        f"HTTP benchmark: wrk, {args.connections} connections, {args.seconds:g} s per page, "
        f"{args.rounds} interleaved rounds, gunicorn as the Procfile (WEB_CONCURRENCY="
        f"{args.workers}); {os.cpu_count()} CPUs, load average {harness.load_average()} at start"
    )
    with harness.serving(args) as served, tempfile.TemporaryDirectory() as tmp:
        run(args, wrk, served, Path(tmp))
    print(f"Whole run, set-up and tear-down included: {time.perf_counter() - started:.0f} s")


def run(args, wrk: str, served: harness.Served, tmp: Path) -> None:
    bare = served.bare_page()
    pages = [
        bare,
        harness.Page("/healthz", served.portal_port, served.base_domain, "/healthz"),
        served.page("agency home", "/"),
        served.page("request form", "/requests/new/"),
        served.page("public request page", f"/requests/{served.public_numbers[0]}/"),
        served.page(
            "archive search, rare term", "/archive/?" + urlencode({"q": harness.RARE_TERM})
        ),
        served.page(
            "archive search, common term", "/archive/?" + urlencode({"q": harness.COMMON_TERM})
        ),
        served.page("archive listing", "/archive/"),
        served.page("staff queue", "/staff/requests/", staff=True),
        served.page("staff request page", f"/staff/requests/{served.staff_number}/", staff=True),
    ]
    for page in pages:
        harness.check_answers(page)
    figures = {"connections": args.connections, "folder": tmp}
    harness.wrk_run(wrk, bare, seconds=1, **figures)  # warm-up
    bare.forget()
    for round_number in range(args.rounds):
        for page in pages:
            harness.wrk_run(wrk, page, seconds=args.seconds, **figures)
        for page in pages:
            page.ratios.append(page.rates[-1] / bare.rates[-1])
        print(f"  round {round_number + 1} done; load average {harness.load_average()}")
    report(pages)


def report(pages: list[harness.Page]) -> None:
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
    met = f"Targets met: {sum(verdicts)} of {len(verdicts)}"
    print(f"{met}; load average now {harness.load_average()}")


if __name__ == "__main__":
    main()
