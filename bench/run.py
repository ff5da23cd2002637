"""Foundation benchmarks: what tenancy, row-level security and the audit log cost per request.

Runs on a throw-away database (created as the owner role, used as the app role, dropped at
the end), in-process through Django's test client, so the figures measure the portal and
not a network. Absolute times vary between machines; the ratios are measured in the same run
against a baseline on the same machine.

    make bench            (or: .venv/bin/python bench/run.py --requests 400)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_requests(client, path: str, n: int) -> list[float]:
    for _ in range(20):  # warm-up: connections, template caches
        client.get(path)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return samples


def report_latency(name: str, samples: list[float], baseline_p50: float | None) -> None:
    p50, p95 = percentile(samples, 0.50), percentile(samples, 0.95)
    ratio = f"{p50 / baseline_p50:5.2f}x" if baseline_p50 else "  1.00x (baseline)"
    print(
        f"  {name:<46} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
        f"{1000 / statistics.mean(samples):7.0f} req/s  {ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from tests.db_helpers import connected_as_owner

    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_portal_{os.getpid()}"
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        run(args, settings, Client)
    finally:
        with connected_as_owner():
            teardown_databases(db_cfg, verbosity=0)


def run(args, settings, Client) -> None:
    import audit
    from accounts.models import Agency, Membership, Role, User
    from accounts.tenancy import agency_context
    from audit.chain import verify_chain
    from requests_portal.models import Department

    # The admin signs in without a second factor here (force_login), so the agency must not
    # require one for admins, or every staff page redirects to the two-factor set-up.
    agency = Agency.objects.create(slug="bench", name="Bench City", mfa_required_for_admins=False)
    with agency_context(agency):
        admin = User.objects.create_user("admin@bench.test", "bench-password-123456")
        Membership.objects.create(agency=agency, user=admin, role=Role.ADMIN)
        for n in range(25):
            user = User.objects.create_user(f"user{n}@bench.test", None)
            Membership.objects.create(agency=agency, user=user, role=Role.STAFF)
            Department.objects.create(agency=agency, name=f"Department {n}")
    host = f"bench.{settings.PORTAL_BASE_DOMAIN}"
    anonymous = Client(HTTP_HOST=host)
    signed_in = Client(HTTP_HOST=host)
    signed_in.force_login(admin)
    platform = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)

    print(f"Foundation benchmark: {args.requests} requests per page, in-process, PostgreSQL")
    print("Request latency (full middleware stack, one transaction per request):")
    baseline = time_requests(platform, "/healthz", args.requests)
    report_latency("platform /healthz (baseline: SELECT 1)", baseline, None)
    base_p50 = percentile(baseline, 0.5)
    report_latency(
        "agency home, anonymous (host + RLS context)",
        time_requests(anonymous, "/", args.requests),
        base_p50,
    )
    report_latency(
        "staff dashboard, signed in (+ audit event)",
        time_requests(signed_in, "/staff/", args.requests),
        base_p50,
    )
    report_latency(
        "users list, 26 members (+ audit event)",
        time_requests(signed_in, "/staff/users/", args.requests),
        base_p50,
    )

    print(f"Audit chain ({args.events} events):")
    start = time.perf_counter()
    for n in range(args.events):
        with agency_context(agency):
            audit.record("page.view", agency=agency, details={"n": n})
    single = args.events / (time.perf_counter() - start)
    print(f"  append, one writer, one transaction each      {single:8.0f} events/s")

    threads, per_thread = 2, args.events // 2

    def writer():
        from django.db import connections

        try:
            for n in range(per_thread):
                with agency_context(agency):
                    audit.record("page.view", agency=agency, details={"n": n})
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    contended = threads * per_thread / (time.perf_counter() - start)
    print(
        f"  append, {threads} writers on one chain (locked)       {contended:8.0f} events/s"
        f"  ({contended / single:.2f}x one writer)"
    )
    with agency_context(agency):
        start = time.perf_counter()
        result = verify_chain(agency.pk)
        elapsed = time.perf_counter() - start
    assert result.ok, result
    print(
        f"  audit_verify                                  {result.events / elapsed:8.0f} events/s"
        f"  ({result.events} events, chain intact)"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of the benchmark process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
