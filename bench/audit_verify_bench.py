"""audit_verify benchmark: how many events a second the chain walk recomputes.

Seeds a throw-away database (created as the owner role, used as the app role, dropped at the
end) with realistic events, chained exactly as audit.chain.append chains them but written
with COPY (appending one by one would take longer than the measurement), then times:

- the chain walk alone (audit.chain.verify_chain), best of --rounds;
- the full check against the seals (audit.seals.services.verify_chains: every chain, every
  seal's signature and link, the sealed positions), with one seal per --seal-every events.

    make bench-audit-verify   (or: .venv/bin/python bench/audit_verify_bench.py --events 300000)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

ACTIONS = ["page.view", "auth.login", "request.status_changed", "document.downloaded"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari",
    "",
]


def seed(agency_id: int, first: int, count: int, actor_ids: list[int], prev: str) -> str:
    """Events ``first`` to ``first + count - 1`` of one agency's chain, chained onto ``prev``
    and written with COPY as the table owner; PostgreSQL refuses COPY FROM where row-level
    security applies, so the throw-away database lifts FORCE for the length of that one
    transaction. Returns the new head's hash."""
    import json

    from audit.chain import event_hash
    from audit.models import AuditEvent

    start = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    columns = (
        "agency_id, actor_id, acting_as_grant_id, action, target_type, target_id, ip, "
        "user_agent, request_id, created_at, details, prev_hash, hash"
    )
    from tests.db_helpers import owner_connection

    last = start + timedelta(microseconds=(first + count) * 1_234_567)
    with owner_connection() as conn, conn.cursor() as cursor:
        # The log is partitioned by month: the months these events fall in must exist.
        month = start.date().replace(day=1)
        while month <= last.date():
            cursor.execute("SELECT audit_ensure_month_partition(%s)", [month])
            month = (month + timedelta(days=32)).replace(day=1)
        cursor.execute("ALTER TABLE audit_auditevent NO FORCE ROW LEVEL SECURITY")
        copy_sql = f"COPY audit_auditevent ({columns}) FROM STDIN"
        try:
            with cursor.copy(copy_sql) as copy:
                for n in range(first, first + count):
                    details: dict[str, object] = {"path": f"/staff/requests/{n % 5000}/"}
                    if n % 3 == 0:
                        details["changes"] = {"status": ["open", "closed"], "n": n}
                    event = AuditEvent(
                        agency_id=agency_id,
                        actor_id=actor_ids[n % len(actor_ids)],
                        acting_as_grant_id=None,
                        action=ACTIONS[n % len(ACTIONS)],
                        target_type="requests_portal.recordsrequest",
                        target_id=str(n % 5000),
                        ip=f"203.0.113.{n % 250}",
                        user_agent=AGENTS[n % len(AGENTS)],
                        request_id=f"{n:032x}",
                        created_at=start + timedelta(microseconds=n * 1_234_567),
                        details=details,
                        prev_hash=prev,
                    )
                    event.hash = event_hash(event, prev)
                    prev = event.hash
                    copy.write_row(
                        (
                            agency_id,
                            event.actor_id,
                            None,
                            event.action,
                            event.target_type,
                            event.target_id,
                            event.ip,
                            event.user_agent,
                            event.request_id,
                            event.created_at,
                            json.dumps(details),
                            event.prev_hash,
                            event.hash,
                        )
                    )
        finally:
            cursor.execute("ALTER TABLE audit_auditevent FORCE ROW LEVEL SECURITY")
        conn.commit()
    return prev


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000, help="events of the big agency")
    parser.add_argument("--agencies", type=int, default=3, help="small agencies besides it")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seal-every", type=int, default=5_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from tests.db_helpers import connected_as_owner

    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_audit_{os.getpid()}"
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings.AUDIT_SEAL_S3_BUCKET = ""
            settings.AUDIT_SEAL_LOCAL_ROOT = Path(folder)
            run(args)
    finally:
        with connected_as_owner():
            teardown_databases(db_cfg, verbosity=0)


def run(args: argparse.Namespace) -> None:
    from django.db import transaction

    from accounts.models import Agency, User
    from audit.chain import GENESIS_HASH, set_chain_context, verify_chain
    from audit.seals import services as seals

    actors = [User.objects.create_user(f"u{n}@bench.test", None).pk for n in range(20)]
    big = Agency.objects.create(slug="bench", name="Bench City")
    smalls = [
        Agency.objects.create(slug=f"small-{n}", name=f"Small {n}") for n in range(args.agencies)
    ]
    heads = {agency.pk: GENESIS_HASH for agency in [big, *smalls]}
    started = time.perf_counter()
    total = 0
    # In slices, sealing after each one, as the hourly task would have seen the chains grow.
    for first in range(0, args.events, args.seal_every):
        size = min(args.seal_every, args.events - first)
        heads[big.pk] = seed(big.pk, first, size, actors, heads[big.pk])
        total += size
        for small in smalls:
            heads[small.pk] = seed(small.pk, first // 10, size // 10, actors, heads[small.pk])
            total += size // 10
        seals.seal_chains()
    from tests.db_helpers import owner_connection

    with owner_connection(autocommit=True) as conn:  # what autovacuum would have done by now
        conn.execute("ANALYZE audit_auditevent")
    print(
        f"audit_verify benchmark: {total} events in {len(heads)} chains seeded and sealed "
        f"in {time.perf_counter() - started:.1f} s"
    )

    # Wall time, and this process's CPU time: on a busy machine the second is disturbed less
    # (PostgreSQL's side of the walk runs in its own process, on another core).
    best = best_cpu = 0.0
    for _ in range(args.rounds):
        with transaction.atomic():
            set_chain_context(big.pk)
            started, started_cpu = time.perf_counter(), time.process_time()
            report = verify_chain(big.pk)
            elapsed = time.perf_counter() - started
            elapsed_cpu = time.process_time() - started_cpu
        assert report.ok, report
        best = max(best, report.events / elapsed)
        best_cpu = max(best_cpu, report.events / elapsed_cpu)
    # The walk as it was before (model instances from the ORM, event_hash per event): the
    # baseline, measured in the same run on the same rows.
    from audit.chain import event_hash
    from audit.models import AuditEvent

    with transaction.atomic():
        set_chain_context(big.pk)
        started, started_cpu = time.perf_counter(), time.process_time()
        prev, walked = GENESIS_HASH, 0
        for event in (
            AuditEvent.objects.filter(agency_id=big.pk).order_by("id").iterator(chunk_size=2000)
        ):
            assert event.prev_hash == prev and event_hash(event, prev) == event.hash
            prev, walked = event.hash, walked + 1
        orm_rate = walked / (time.perf_counter() - started)
        orm_cpu = walked / (time.process_time() - started_cpu)
    print(
        f"  before: ORM walk (baseline)                   {orm_rate:9.0f} events/s "
        f"({orm_cpu:.0f} events per CPU second)"
    )

    # The same rows fetched and thrown away: the floor the database and the driver set.
    from django.db import connection

    from audit.chain import _WALK_SQL

    with transaction.atomic():
        set_chain_context(big.pk)
        started = time.perf_counter()
        with connection.connection.cursor(name="bench_fetch") as cursor:
            cursor.itersize = 20_000
            cursor.execute(_WALK_SQL, [big.pk])
            fetched = 0
            while rows := cursor.fetchmany(20_000):
                fetched += len(rows)
        fetch_rate = fetched / (time.perf_counter() - started)
    print(f"  rows fetched only (no hashing)                {fetch_rate:9.0f} events/s")
    print(
        f"  chain walk, one agency ({args.events} events)   {best:9.0f} events/s (best; "
        f"{best_cpu:.0f} events per CPU second)"
    )

    started, started_cpu = time.perf_counter(), time.process_time()
    result = seals.verify_chains()
    elapsed = time.perf_counter() - started
    elapsed_cpu = time.process_time() - started_cpu
    assert result.ok, result.problems
    print(
        f"  audit_verify, all chains against their seals   {result.events / elapsed:9.0f} events/s"
        f"  ({result.events} events, {result.seals} seals, {elapsed:.2f} s; "
        f"{result.events / elapsed_cpu:.0f} events per CPU second)"
    )


if __name__ == "__main__":
    main()
