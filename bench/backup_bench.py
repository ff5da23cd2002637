"""Backup benchmark: the portal's encrypted, streamed backup and restore against plain
``pg_dump | pg_restore``, measured in the same run on the same database.

Builds a throw-away database of --size-mb (1 GB by default: text rows like requests and
their notes, and binary rows like stored attachments, in about equal parts) on the embedded
server as its superuser, then for each of --rounds:

- plain dump: ``pg_dump --format=custom`` into a file (the baseline);
- backup: ``ops.backups.take_backup`` (pg_dump's pipe, sealed segment by segment, into the
  local backup store);
- plain restore: that file into ``pg_restore --single-transaction`` on a fresh database;
- restore: ``ops.restore.restore_into`` (decrypting into pg_restore, one transaction);
- and once each, for their peak RSS: ``python -m ops.backup_process`` (what the beat task
  runs: the backup in a process without Django's apps) and ``manage.py backup_now`` (Django
  and every app loaded; ``backup_list`` measured alone says what that start-up costs).

Prints the median (p50) of each in MB/s of dump (pg_dump's output), the ratios against the
baseline (target: at least 0.7) and the peak memory (target: under 100 MB for the backup's
process).

    make bench-backup    (or: .venv/bin/python bench/backup_bench.py --size-mb 50 --rounds 1)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

ROW_TEXT = 2000  # bytes of text per request row (hex: compresses about 2:1, like prose)
ROW_BLOB = 32 * 1024  # bytes per attachment row (incompressible, like encrypted files)


def build(database, size_mb: int) -> int:
    """Fill ``database`` to about ``size_mb`` (half text rows, half binary rows); its size."""
    target = size_mb * 1024 * 1024
    text_rows = max(1, target // 2 // ROW_TEXT)
    blob_rows = max(1, target // 2 // ROW_BLOB)
    with database.connect(autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE requests (id bigint PRIMARY KEY, agency_id int, title text, "
            "body text, filed_at timestamptz)"
        )
        conn.execute(
            "CREATE TABLE attachments (id bigint PRIMARY KEY, request_id bigint, data bytea)"
        )
        step = 50_000
        for first in range(0, text_rows, step):
            conn.execute(
                """
                INSERT INTO requests
                SELECT g, g %% 50, 'Request ' || g,
                       (SELECT string_agg(md5((g * 100 + n)::text), ' ')
                        FROM generate_series(1, %s::int) n),
                       now() - (g || ' minutes')::interval
                FROM generate_series(%s::bigint, %s::bigint) g
                """,
                [ROW_TEXT // 33, first + 1, min(first + step, text_rows)],
            )
        for first in range(0, blob_rows, 2000):
            conn.execute(
                """
                INSERT INTO attachments
                SELECT g, g, (SELECT string_agg(decode(md5(random()::text), 'hex'), ''::bytea)
                              FROM generate_series(1, %s::int))
                FROM generate_series(%s::bigint, %s::bigint) g
                """,
                [ROW_BLOB // 16, first + 1, min(first + 2000, blob_rows)],
            )
        conn.execute("CREATE INDEX requests_agency ON requests (agency_id, filed_at)")
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def high_water(pid: int) -> int:
    """The process's peak resident memory so far (Linux's VmHWM, bytes; 0 once it is gone).
    Not getrusage's ru_maxrss: that keeps, across exec, the memory of the process it was
    forked from (the benchmark itself), and counts the children it waited for."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def timed(command: list[str], env: dict[str, str], **kwargs) -> tuple[float, int]:
    """Run ``command``; (seconds, its peak RSS in bytes, its children not included)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, **kwargs)  # noqa: S603 (fixed tools)
    peak = 0
    while process.poll() is None:
        peak = max(peak, high_water(process.pid))
        time.sleep(0.02)
    if process.returncode:
        raise SystemExit(f"{command[0]} failed ({process.returncode})")
    return time.perf_counter() - started, peak


def url_of(database) -> str:
    host = quote(database.host, safe="")
    password = f":{quote(database.password)}" if database.password else ""
    port = f":{database.port}" if database.port else ""
    return f"postgres://{database.user}{password}@{host}{port}/{database.name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024, help="database size to build")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from ops import pg

    server = pg.Database.backed_up()
    name = f"bench_backup_{os.getpid()}"
    with server.named("postgres").connect(autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="backup-bench-") as folder:
            run(args, server.named(name), Path(folder), settings)
    finally:
        with server.named("postgres").connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace, database, folder: Path, settings) -> None:
    from ops import backups, pg
    from ops.restore import restore_into
    from vault import storage

    started = time.perf_counter()
    size = build(database, args.size_mb)
    print(
        f"backup benchmark: database of {size / 1e6:,.0f} MB built in "
        f"{time.perf_counter() - started:.0f} s; {args.rounds} round(s)"
    )
    key = os.urandom(32)
    settings.BACKUPS = settings.BACKUPS._replace(
        key=key,
        old_keys=[],
        s3_bucket="",
        local_root=folder / "store",
        database=dict(settings.BACKUPS.database, NAME=database.name),
        keep={"daily": 1, "weekly": 1, "monthly": 1},
    )
    storage.reset_cache()
    major = pg.server_major(database)
    pg_dump, pg_restore = pg.tool("pg_dump", major), pg.tool("pg_restore", major)
    plain_file = folder / "plain.dump"
    figures: dict[str, list[float]] = {"dump": [], "backup": [], "restore": [], "ours": []}
    dump_peak = 0
    dump_size = 0
    for _ in range(args.rounds):
        seconds, dump_peak = timed(
            [pg_dump, "--format=custom", f"--file={plain_file}", "--no-password"],
            database.environment(),
        )
        dump_size = plain_file.stat().st_size
        figures["dump"].append(dump_size / seconds / 1e6)

        begun = time.perf_counter()
        manifest = backups.take_backup("daily")
        figures["backup"].append(manifest.plaintext_size / (time.perf_counter() - begun) / 1e6)

        with pg.scratch_database(database) as target, plain_file.open("rb") as dump:
            seconds, _peak = timed(
                [
                    pg_restore,
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    "--no-password",
                    f"--dbname={target.name}",
                ],
                target.environment(),
                stdin=dump,
            )
        figures["restore"].append(dump_size / seconds / 1e6)
        plain_file.unlink()

        with pg.scratch_database(database) as target:
            begun = time.perf_counter()
            restore_into(target, manifest, key)
            figures["ours"].append(manifest.plaintext_size / (time.perf_counter() - begun) / 1e6)

    # The backup as a worker runs it, in a process of its own: its peak memory.
    env = {
        **os.environ,
        "BACKUP_KEY": base64.urlsafe_b64encode(key).decode(),
        "BACKUP_DATABASE_URL": url_of(database),
        "BACKUP_LOCAL_ROOT": str(folder / "store"),
    }
    process_seconds, process_peak = timed(
        [sys.executable, str(ROOT / "manage.py"), "backup_now"],
        env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    # What the beat task runs: the backup's own process, without Django's apps.
    with tempfile.TemporaryFile() as out:
        lean_seconds, lean_polled = timed(
            [sys.executable, "-m", "ops.backup_process"],
            env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        out.seek(0)
        # Its own figure, read as it finishes (the polling above may miss the last moments).
        reported = json.loads(out.read().decode().strip().splitlines()[-1])["peak_rss"]
        lean_peak = max(lean_polled, reported)
    # The same manage.py process doing no backup (Django and the portal's apps loaded, the
    # store listed): what any manage.py command of the portal costs before it does anything.
    _seconds, startup_peak = timed(
        [sys.executable, str(ROOT / "manage.py"), "backup_list"],
        env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    own = process_peak - startup_peak

    p50 = {k: statistics.median(v) for k, v in figures.items()}
    print(f"dump size (custom format, compressed): {dump_size / 1e6:,.0f} MB")
    print(f"{'':28}{'p50 MB/s':>10}{'ratio':>8}")
    print(f"{'plain pg_dump -> file':28}{p50['dump']:>10.1f}")
    ratio = p50["backup"] / p50["dump"]
    print(f"{'backup (encrypted, stored)':28}{p50['backup']:>10.1f}{ratio:>8.2f}")
    print(f"{'plain pg_restore <- file':28}{p50['restore']:>10.1f}")
    print(f"{'restore (decrypted)':28}{p50['ours']:>10.1f}{p50['ours'] / p50['restore']:>8.2f}")
    print(
        f"peak RSS: the beat task's backup process (python -m ops.backup_process) "
        f"{lean_peak / 1e6:.0f} MB ({lean_seconds:.1f} s); manage.py backup_now "
        f"{process_peak / 1e6:.0f} MB ({process_seconds:.1f} s), of which Django and the "
        f"portal's apps {startup_peak / 1e6:.0f} MB (backup_list), the backup's own share "
        f"{own / 1e6:.0f} MB; pg_dump {dump_peak / 1e6:.0f} MB"
    )
    verdict = []
    for label, ratio in (
        ("backup", p50["backup"] / p50["dump"]),
        ("restore", p50["ours"] / p50["restore"]),
    ):
        verdict.append(f"{label} {'meets' if ratio >= 0.7 else 'MISSES'} >= 0.7x")
    verdict.append(f"backup process {'meets' if lean_peak < 100e6 else 'MISSES'} < 100 MB")
    print("targets: " + "; ".join(verdict))


if __name__ == "__main__":
    main()
