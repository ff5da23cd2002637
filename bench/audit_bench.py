"""Audit benchmarks: what recording an event costs a request, and how fast the chains take events.

Two parts, on a throw-away database (created as the owner role, used as the app role, dropped
at the end); each part's figures are compared with a baseline measured in the same run:

- ``latency``: a signed-in staff member's page (the staff dashboard by default) through the
  whole middleware stack, in-process through Django's test client, with audit recording on
  (the settings' MIDDLEWARE) and off (the same list without AuditAccessMiddleware, for the
  baseline client only: nothing in the product is switched off), and recording through the
  append as it was before chain heads (bench/audit_legacy_append.py: the "before" of the
  same run), with a year of monthly partitions online as in production. The three clients
  take turns, request by request, so a busy shared machine skews them alike. Prints p50 and
  p95 of each, the added latency (target: at most 2 ms at p95), CPU time per request, the
  time spent in audit.record itself and the SQL statements per request.
- ``append``: events per second appended by separate processes, each with its own database
  connection and one transaction per event: one writer (the baseline), 4 writers on one
  agency's chain, 4 writers on 4 agencies (the same concurrency without a shared chain), and
  8 writers on 8 agencies. Writers of one chain take turns on its head row (audit/chain.py:
  one statement locks and reads it); the time spent in that statement, waiting included, is
  measured per append. Every chain is verified afterwards (no fork).

    make bench-audit      (or: .venv/bin/python bench/audit_bench.py [latency] [append]
                           [--rounds 400] [--seconds 8] [--path /staff/])
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

AUDIT_MIDDLEWARE = "accounts.middleware.AuditAccessMiddleware"
TARGET_ADDED_P95_MS = 2.0
WARM_UP = 20
STEPS = ("lock", "head", "insert", "context", "other", "commit")


def _step(sql: str) -> str:
    text = sql.lstrip()
    if text.startswith("SELECT h.head_hash"):
        return "head"  # lock the chain's head row and read it: one statement
    if text.startswith("SELECT pg_advisory_xact_lock"):
        return "lock"  # the append before chain heads (bench/audit_legacy_append.py)
    if text.startswith("SELECT (SELECT hash"):
        return "head"  # its head read
    if text.startswith("INSERT"):
        return "insert"
    if text.startswith("SELECT set_config"):
        return "context"
    return "other"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "parts",
        nargs="*",
        metavar="latency|append",
        help="which parts to run (default: both)",
    )
    parser.add_argument("--rounds", type=int, default=400, help="requests per client (latency)")
    parser.add_argument("--path", default="/staff/", help="the page timed (latency)")
    parser.add_argument("--seconds", type=float, default=8, help="length of each append phase")
    parser.add_argument(
        "--writers", type=int, default=4, help="concurrent writers on one chain (append)"
    )
    parser.add_argument(
        "--agencies", type=int, default=8, help="agencies written in parallel, one writer each"
    )
    args = parser.parse_args()
    parts = args.parts or ["latency", "append"]
    if unknown := set(parts) - {"latency", "append"}:
        parser.error(f"unknown part {', '.join(sorted(unknown))}: choose latency or append")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from tests.db_helpers import connected_as_owner

    # One JSON line per request goes to stdout in production; here it would bury the figures.
    # The call stays in the measured path of both clients alike.
    logging.getLogger("portal").setLevel(logging.WARNING)
    started = time.perf_counter()
    # DEBUG off, as in production: no per-query logging in the measured requests.
    setup_test_environment(debug=False)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_audit_cost_{os.getpid()}"
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        print(
            f"Audit benchmark: in-process, PostgreSQL; {os.cpu_count()} CPUs, load average "
            f"{load()} at start (other work on the machine skews timings)"
        )
        if "latency" in parts:
            measure_latency(args)
        if "append" in parts:
            measure_append(args)
    finally:
        from django.db import connections

        connections.close_all()
        with connected_as_owner():
            teardown_databases(db_cfg, verbosity=0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of the benchmark process: {peak_mb:.0f} MB; load average {load()} at end")
    print(
        f"Whole run, database set-up and tear-down included: {time.perf_counter() - started:.0f} s"
    )


# --- Part 1: added latency per request ---------------------------------------------------------


def _staff_agency(slug: str):
    from accounts.models import Agency, Membership, Role, User
    from accounts.tenancy import agency_context
    from requests_portal.models import Department

    agency = Agency.objects.create(
        slug=slug, name=f"{slug.title()} City", time_zone="America/Chicago"
    )
    with agency_context(agency):
        user = User.objects.create_user(f"staff@{slug}.test", None, full_name="Bench Staff")
        Membership.objects.create(agency=agency, user=user, role=Role.STAFF)
        for n in range(10):
            Department.objects.create(agency=agency, name=f"Department {n}")
    return agency, user


def _count_events(agency) -> int:
    from accounts.tenancy import agency_context
    from audit.models import AuditEvent

    with agency_context(agency):
        return AuditEvent.objects.filter(agency=agency).count()


def _statements(client, path: str) -> int:
    from django.db import connection

    seen: list[str] = []

    def note(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        client.get(path)
    return len(seen)


def measure_latency(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    import audit
    from audit import chain
    from audit.retention import add_months, current_month, ensure_months
    from bench.audit_legacy_append import legacy_append

    # The year of monthly partitions that production keeps online, and three months ahead.
    ensure_months(add_months(current_month(), -12), add_months(current_month(), 3))
    agency, user = _staff_agency("latency")
    host = f"{agency.slug}.{settings.PORTAL_BASE_DOMAIN}"
    assert AUDIT_MIDDLEWARE in settings.MIDDLEWARE, "the audit middleware is not installed"
    recording = Client(HTTP_HOST=host)
    baseline = Client(HTTP_HOST=host)
    # The same recording, through the append as it was before chain heads (the "before").
    legacy = Client(HTTP_HOST=host)
    for client in (recording, baseline, legacy):
        client.force_login(user)
    real_append = chain.append
    # The baseline client's handler is built once with the stack minus the audit middleware;
    # the settings go back at once, so nothing else runs without it.
    without = [name for name in settings.MIDDLEWARE if name != AUDIT_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without):
        baseline.handler.load_middleware()

    for n in range(WARM_UP):
        for client in (recording, baseline):
            response = client.get(args.path)
            assert response.status_code == 200, (args.path, response.status_code, n)
        chain.append = legacy_append
        try:
            assert legacy.get(args.path).status_code == 200
        finally:
            chain.append = real_append

    # audit.record, timed where the middleware calls it (the module attribute), so the
    # figure is the in-request cost of one event: locking and reading the head, hash, insert.
    real_record = audit.record
    arms = ("off", "on", "before")
    record_ms: dict[str, list[float]] = {"on": [], "before": []}
    record_cpu_ms: dict[str, list[float]] = {"on": [], "before": []}
    arm = ["off"]

    def timed_record(*a, **kw):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return real_record(*a, **kw)
        finally:
            record_ms[arm[0]].append((time.perf_counter() - start) * 1000)
            record_cpu_ms[arm[0]].append((time.process_time() - start_cpu) * 1000)

    wall: dict[str, list[float]] = {label: [] for label in arms}
    cpu: dict[str, list[float]] = {label: [] for label in arms}
    # The audit statements' own times, and each request's commit (with recording, a write:
    # the commit waits for the WAL to reach the disk; without, a read-only transaction).
    steps: dict[str, dict[str, list[float]]] = {
        "on": {"head": [], "insert": []},
        "before": {"lock": [], "head": [], "insert": []},
    }
    commits: dict[str, list[float]] = {label: [] for label in arms}

    def time_statement(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            step = _step(sql)
            if arm[0] in steps and step in steps[arm[0]]:
                steps[arm[0]][step].append((time.perf_counter() - began) * 1000)

    real_commit = connection._commit

    def timed_commit():
        began = time.perf_counter()
        try:
            return real_commit()
        finally:
            commits[arm[0]].append((time.perf_counter() - began) * 1000)

    before = _count_events(agency)
    audit.record = timed_record
    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(time_statement):
            for n in range(args.rounds):
                # Rotate which goes first, so none always follows another.
                order = (("on", recording), ("off", baseline), ("before", legacy))
                for label, client in order[n % 3 :] + order[: n % 3]:
                    arm[0] = label
                    chain.append = legacy_append if label == "before" else real_append
                    began_cpu, began = time.process_time(), time.perf_counter()
                    response = client.get(args.path)
                    wall[label].append((time.perf_counter() - began) * 1000)
                    cpu[label].append((time.process_time() - began_cpu) * 1000)
                    assert response.status_code == 200, (label, response.status_code)
    finally:
        chain.append = real_append
        audit.record = real_record
        del connection._commit
    recorded = _count_events(agency) - before
    assert recorded == 2 * args.rounds, f"{recorded} events for {2 * args.rounds} recordings"
    assert len(record_ms["on"]) == args.rounds, len(record_ms["on"])
    queries_on, queries_off = _statements(recording, args.path), _statements(baseline, args.path)
    round_trip = _round_trips(args.rounds)
    # The audit statements come after the view has rendered, when the database process has
    # been idle for a while: on a busy machine, waking it up costs more than the statement.
    after_idle = _round_trips(args.rounds // 4, idle=0.01)

    chain.append = legacy_append
    try:
        queries_before = _statements(legacy, args.path)
    finally:
        chain.append = real_append
    print(
        f"Recording one event per request: GET {args.path} as a signed-in staff member, "
        f"{args.rounds} requests each, the three clients taking turns; 16 monthly partitions"
    )
    base_p50 = percentile(wall["off"], 0.5)
    for label, name, queries in (
        ("off", "recording off (baseline)", queries_off),
        ("on", "recording on (one page.view event)", queries_on),
        ("before", "recording, append before chain heads", queries_before),
    ):
        p50, p95 = percentile(wall[label], 0.5), percentile(wall[label], 0.95)
        ratio = "(baseline)" if label == "off" else f"{p50 / base_p50:.2f}x"
        print(
            f"  {name:<37} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
            f"CPU {statistics.mean(cpu[label]):5.2f} ms  {queries:2d} SQL statements  {ratio}"
        )
    for label, name in (("on", "now"), ("before", "before chain heads")):
        added_p50 = percentile(wall[label], 0.5) - base_p50
        added_p95 = percentile(wall[label], 0.95) - percentile(wall["off"], 0.95)
        verdict = "PASS" if added_p95 <= TARGET_ADDED_P95_MS else "MISS"
        print(
            f"  added latency, {name + ':':<20} p50 {added_p50:+.2f} ms, p95 {added_p95:+.2f} ms, "
            f"CPU {statistics.mean(cpu[label]) - statistics.mean(cpu['off']):+.2f} ms  "
            f"{verdict} (p95 <= {TARGET_ADDED_P95_MS:g} ms)"
        )
    for label, name, what in (
        ("on", "now", "head locked and read, hash, insert"),
        ("before", "before", "advisory lock, head read, hash, insert"),
    ):
        print(
            f"  audit.record inside the request, {name + ':':<7} p50 "
            f"{percentile(record_ms[label], 0.5):6.2f} ms  p95 "
            f"{percentile(record_ms[label], 0.95):6.2f} ms  CPU "
            f"{statistics.mean(record_cpu_ms[label]):5.2f} ms  ({what})"
        )
        print(
            "    inside it, mean ms: "
            + "  ".join(f"{step} {statistics.mean(ms):.2f}" for step, ms in steps[label].items())
            + f";  the request's commit p50 {percentile(commits[label], 0.5):.2f} ms"
        )
    print(f"  the request's commit without recording: p50 {percentile(commits['off'], 0.5):.2f} ms")
    print(
        f"  reference: one database round trip    p50 {percentile(round_trip, 0.5):6.2f} ms  "
        f"p95 {percentile(round_trip, 0.95):6.2f} ms  (SELECT 1, same connection; recording "
        f"adds {queries_on - queries_off} statements and a WAL flush at commit)"
    )
    print(
        f"  reference: the same after 10 ms idle  p50 {percentile(after_idle, 0.5):6.2f} ms  "
        f"p95 {percentile(after_idle, 0.95):6.2f} ms  (the first statement after the view ran)"
    )


def _round_trips(n: int, idle: float = 0.0) -> list[float]:
    from django.db import connection

    samples = []
    with connection.cursor() as cursor:
        for _ in range(n):
            if idle:
                time.sleep(idle)
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            samples.append((time.perf_counter() - began) * 1000)
    return samples


# --- Part 2: append throughput -----------------------------------------------------------------


def _writer(agency_id: int, go, start_at, seconds: float, results, legacy: bool) -> None:
    """One writer process: appends page.view events to one agency's chain, one transaction
    each, from the shared start until ``seconds`` later; reports what it did. ``legacy``:
    through the append as it was before chain heads (bench/audit_legacy_append.py)."""
    from django.db import connection, connections

    import audit
    from accounts import audit_events
    from accounts.tenancy import agency_context

    if legacy:
        from audit import chain
        from bench.audit_legacy_append import legacy_append

        chain.append = legacy_append

    # Where an append's time goes, by statement: the head (locked and read in one round trip,
    # plus the wait when another writer holds it), the insert (its trigger moves the head),
    # the tenant context, and the commit (the WAL flush to disk).
    spent: dict[str, list[float]] = {kind: [] for kind in STEPS}

    def time_statement(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[_step(sql)].append((time.perf_counter() - began) * 1000)

    real_commit = connection._commit

    def timed_commit():
        began = time.perf_counter()
        try:
            return real_commit()
        finally:
            spent["commit"].append((time.perf_counter() - began) * 1000)

    def append(n: int) -> None:
        with agency_context(agency_id):
            audit.record(
                audit_events.PAGE_VIEWED.code,
                agency=agency_id,
                details={"view": "staff:staff_dashboard", "method": "GET", "path": "/staff/",
                         "status": 200, "n": n},
            )  # fmt: skip

    try:
        for n in range(5):  # warm-up: the connection, the first statements
            append(n)
        go.wait()
        deadline = start_at.value + seconds
        append_ms: list[float] = []
        cpu = time.process_time()
        connection._commit = timed_commit
        with connection.execute_wrapper(time_statement):
            while (began := time.perf_counter()) < deadline:
                append(len(append_ms))
                append_ms.append((time.perf_counter() - began) * 1000)
        results.put((append_ms, spent, time.process_time() - cpu, None))
    except BaseException as exc:  # noqa: BLE001 (reported by the parent)
        results.put(([], {}, 0.0, repr(exc)))
    finally:
        connections.close_all()


def _phase(agency_ids: list[int], seconds: float, legacy: bool = False) -> dict:
    """Run one writer per entry of ``agency_ids`` (an id may repeat: writers sharing a chain)
    at once, as processes forked from this one."""
    from django.db import connections

    connections.close_all()  # each child opens its own connection
    context = multiprocessing.get_context("fork")
    go, start_at, results = context.Event(), context.Value("d", 0.0), context.Queue()
    writers = [
        context.Process(target=_writer, args=(agency_id, go, start_at, seconds, results, legacy))
        for agency_id in agency_ids
    ]
    for writer in writers:
        writer.start()
    time.sleep(1.0)  # let every writer connect and warm up
    start_at.value = time.perf_counter()  # perf_counter is system-wide (CLOCK_MONOTONIC)
    go.set()
    outcomes = [results.get(timeout=seconds + 120) for _ in writers]
    for writer in writers:
        writer.join()
    errors = [error for *_, error in outcomes if error]
    assert not errors, errors
    append_ms = [ms for outcome in outcomes for ms in outcome[0]]
    spent = {step: [ms for outcome in outcomes for ms in outcome[1][step]] for step in STEPS}
    return {
        "events": len(append_ms),
        "rate": len(append_ms) / seconds,
        "append_ms": append_ms,
        "spent": spent,
        "cpu": sum(outcome[2] for outcome in outcomes) / seconds,
    }


def measure_append(args) -> None:
    from accounts.models import Agency
    from accounts.tenancy import agency_context
    from audit.chain import verify_chain

    count = max(args.agencies, args.writers)
    agencies = [
        Agency.objects.create(slug=f"append{n}", name=f"Append {n} City") for n in range(count)
    ]
    ids = [agency.pk for agency in agencies]
    phases = [
        ("1 writer, 1 agency (baseline)", ids[:1], False),
        (f"{args.writers} writers, 1 agency (one chain)", ids[:1] * args.writers, False),
        (f"{args.writers} writers, {args.writers} agencies", ids[: args.writers], False),
        (f"{args.agencies} writers, {args.agencies} agencies", ids[: args.agencies], False),
        # The same run's "before": the append as it was before chain heads.
        ("1 writer, before chain heads", ids[:1], True),
        (f"{args.writers} writers, 1 agency, before", ids[:1] * args.writers, True),
    ]
    print(
        f"Append throughput: one process per writer, each its own connection, one transaction "
        f"per event, {args.seconds:g} s per line"
    )
    results = {}
    for name, agency_ids, legacy in phases:
        result = _phase(agency_ids, args.seconds, legacy)
        results[name] = result
        base = results[phases[0][0]]["rate"]
        ratio = "(baseline)" if name == phases[0][0] else f"{result['rate'] / base:5.2f}x"
        # The chain's lock and head: one statement now, two before (lock, then head read).
        append_ms, lock_ms = result["append_ms"], result["spent"]["head"]
        if result["spent"]["lock"]:
            lock_ms = [a + b for a, b in zip(result["spent"]["lock"], lock_ms, strict=False)]
        waited = sum(lock_ms) / sum(append_ms) if append_ms else 0.0
        shares = "  ".join(
            f"{step} {statistics.mean(ms):.2f}"
            for step, ms in result["spent"].items()
            if ms and step != "other"
        )
        print(
            f"  {name:<32} {result['rate']:7.0f} events/s  {ratio:<10}  append p50 "
            f"{percentile(append_ms, 0.5):5.2f} ms p95 {percentile(append_ms, 0.95):6.2f} ms  "
            f"lock+head p50 {percentile(lock_ms, 0.5):5.2f} ms p95 "
            f"{percentile(lock_ms, 0.95):6.2f} ms ({waited:4.0%} of append time)  "
            f"writers' CPU {result['cpu']:.2f} cores"
        )
        print(f"  {'':<32} mean ms per append by step: {shares}")
    one_chain = results[phases[1][0]]["rate"]
    many = results[phases[3][0]]["rate"]
    single, single_before = results[phases[0][0]]["rate"], results[phases[4][0]]["rate"]
    print(
        f"  now / before chain heads: 1 writer {single / single_before:.2f}x, "
        f"{args.writers} writers on one chain {one_chain / results[phases[5][0]]['rate']:.2f}x"
    )
    print(
        f"  {args.agencies} agencies in parallel / {args.writers} writers on one agency: "
        f"{many / one_chain:.2f}x  ({os.cpu_count()} CPUs shared by the writers and PostgreSQL)"
    )
    for agency in agencies:
        with agency_context(agency):
            report = verify_chain(agency.pk)
        assert report.ok, report
    print(f"  every chain verified afterwards: intact, no fork ({len(agencies)} agencies)")


if __name__ == "__main__":
    main()
