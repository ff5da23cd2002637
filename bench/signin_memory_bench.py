"""Sign-in memory benchmark: peak RSS of a web process of the Procfile while many people sign
in at once, and sign-ins per second, with Django's Argon2id parameters (before: m = 100 MiB,
t = 2, p = 8) and the portal's (after: OWASP's m = 19 MiB, t = 2, p = 1, at most
PASSWORD_HASH_CONCURRENCY hashes in flight per process), in the same run.

On a throw-away database (created as the owner role, used as the app role, dropped at the
end) with one resident whose password is hashed with the parameters under test, gunicorn is
started exactly as the Procfile's ``web`` line (production settings, a private TLS Redis),
then ``--sign-ins`` browsers sign in at the same moment over loopback (each: GET the sign-in
page for its CSRF token, POST the password, from its own address as Heroku's router forwards
it), ``--bursts`` times. Each configuration runs twice: as the Procfile has it (sync workers:
one request at a time per process) and with ``--threads 8`` added through GUNICORN_CMD_ARGS (a
plausible operator's tuning, where eight requests share a process). The report gives the peak
RSS (VmHWM) of the largest worker and of all gunicorn processes together, sign-ins per second,
and how the attempts ended: signed in (302), "too busy, try again" (503) or anything else.
Exits 1 when a worker's peak under the portal's parameters reaches ``--limit-mb`` (400).

    make bench-signin-memory
    .venv/bin/python bench/signin_memory_bench.py --sign-ins 20 --bursts 1   (a quick look)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from http_harness import (  # noqa: E402 (bench/ is on the path)
    load_average,
    procfile_web,
    start_process,
    stop_process,
    teardown,
)

PASSWORD = "correct horse battery staple 2718"  # noqa: S105 (a throw-away test account)
EMAIL = "resident@bench.test"
# The settings of the "before" configuration: Django's own Argon2id hasher, no cap (hashers
# are found by algorithm name, so the portal's must not be listed too).
BEFORE_SETTINGS = """
from config.settings import *  # noqa: F403
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
"""
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Outcome:
    label: str
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    worker_peak_mb: float = 0.0
    total_peak_mb: float = 0.0

    @property
    def signed_in(self) -> int:
        return self.statuses.get("302", 0)


def _peak_mb(pid: int) -> float:
    """VmHWM (the peak resident set) of a process, in MB; 0 when it has gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:  # the 5th field of stat: the process group
                pids.append(int(entry.name))
    return pids


def sign_in(port: int, host: str, address: str) -> str:
    """One browser: the sign-in page, then the password; the answer's status."""
    headers = {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": address}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/accounts/login/", headers=headers)
        page = conn.getresponse()
        body = page.read()
        token = CSRF_INPUT.search(body)
        cookies = [c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") or []]
        if page.status != 200 or token is None:
            return f"GET {page.status}"
        form = urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": EMAIL, "password": PASSWORD}
        )
        conn.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                **headers,
                "Cookie": "; ".join(cookies),
                "Origin": f"https://{host}",
                "Referer": f"https://{host}/accounts/login/",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = conn.getresponse()
        answer.read()
        return str(answer.status)
    except OSError as error:
        return type(error).__name__
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sign-ins", type=int, default=50, help="browsers at once")
    parser.add_argument("--bursts", type=int, default=2)
    parser.add_argument("--limit-mb", type=float, default=400)
    parser.add_argument(
        "--procfile-only", action="store_true", help="skip the --threads 8 configurations"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment

    from tests.db_helpers import connected_as_owner

    started = time.perf_counter()
    setup_test_environment(debug=False)
    name = f"bench_signin_{os.getpid()}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        with tempfile.TemporaryDirectory(prefix="signin-bench-") as tmp:
            failed = run(args, name, Path(tmp))
    finally:
        from django.db import connections

        connections.close_all()
        teardown(db_cfg)
    print(f"Whole run, set-up and tear-down included: {time.perf_counter() - started:.0f} s")
    if failed:
        sys.exit(1)


def run(args, database: str, tmp: Path) -> bool:
    from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

    from accounts.hashers import PortalArgon2PasswordHasher
    from accounts.models import Agency, User
    from accounts.tenancy import agency_context
    from tests.idp._process import free_port
    from tests.ops.production import BASE_DOMAIN, production_env
    from tests.ops.services import start_tls_redis

    agency = Agency.objects.create(slug="bench", name="Bench City")
    with agency_context(agency):
        user = User.objects.create_user(EMAIL, PASSWORD)
    host = f"bench.{BASE_DOMAIN}"
    (tmp / "bench_before_settings.py").write_text(BEFORE_SETTINGS)
    print(
        f"Sign-in memory benchmark: {args.sign_ins} browsers signing in at once, "
        f"{args.bursts} bursts per configuration, gunicorn as the Procfile; "
        f"{os.cpu_count()} CPUs, load average {load_average()} at start"
    )
    redis_server = start_tls_redis(tmp / "redis")
    addresses = (f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}" for n in itertools.count())
    outcomes: list[Outcome] = []
    try:
        bin_dir = Path(sys.executable).parent
        base_env = production_env(
            database,
            REDIS_URL=redis_server.url,
            REDIS_SSL_CERT_REQS="none",
            PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=f"{ROOT}{os.pathsep}{tmp}",
        )
        collect = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput"],
            cwd=ROOT,
            env=base_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if collect.returncode:
            raise SystemExit(f"collectstatic failed:\n{collect.stdout}{collect.stderr}")
        configurations = [
            ("before: m=100 MiB t=2 p=8", "bench_before_settings", Argon2PasswordHasher, ""),
            ("after:  m=19 MiB t=2 p=1, cap", "config.settings", PortalArgon2PasswordHasher, ""),
        ]
        if not args.procfile_only:
            configurations += [
                (f"{label}, --threads 8", module, hasher, "--threads 8")
                for label, module, hasher, _ in configurations
            ]
        for label, module, hasher, extra in configurations:
            with agency_context(agency):
                User.objects.filter(pk=user.pk).update(
                    password=make_password(PASSWORD, hasher=hasher())
                )
            port = free_port()
            env = {
                **base_env,
                "DJANGO_SETTINGS_MODULE": module,
                "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} {extra}".strip(),
            }
            log = tmp / f"web-{len(outcomes)}.log"
            web = start_process(procfile_web(), env, ROOT, log)
            try:
                outcomes.append(burst(label, web, port, host, args, addresses, log))
            finally:
                stop_process(web)
    finally:
        redis_server.stop()
    return report(outcomes, args)


def burst(label, web, port, host, args, addresses, log) -> Outcome:
    deadline = time.monotonic() + 60
    while True:  # up: the sign-in page answers
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
            if conn.getresponse().status == 200:
                break
        if web.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    sign_in(port, host, next(addresses))  # warm-up: every worker's first request
    outcome = Outcome(label)
    lock = threading.Lock()
    began = time.perf_counter()
    for _ in range(args.bursts):
        gate = threading.Barrier(args.sign_ins)

        def browser(address: str, gate: threading.Barrier = gate) -> None:
            gate.wait()
            status = sign_in(port, host, address)
            with lock:
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1

        threads = [
            threading.Thread(target=browser, args=(next(addresses),)) for _ in range(args.sign_ins)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    outcome.seconds = time.perf_counter() - began
    pids = _group_pids(web.pid)
    peaks = {pid: _peak_mb(pid) for pid in pids}
    workers = [peak for pid, peak in peaks.items() if pid != web.pid]
    outcome.worker_peak_mb = max(workers, default=0.0)
    outcome.total_peak_mb = sum(peaks.values())
    return outcome


def report(outcomes: list[Outcome], args) -> bool:
    print(
        f"  {'configuration':<42} {'worker peak':>11} {'all procs':>10} {'sign-ins/s':>10}  "
        "outcomes"
    )
    base = outcomes[0].signed_in / outcomes[0].seconds if outcomes else 0
    failed = False
    for outcome in outcomes:
        rate = outcome.signed_in / outcome.seconds
        ended = ", ".join(f"{code} x{n}" for code, n in sorted(outcome.statuses.items()))
        print(
            f"  {outcome.label:<42} {outcome.worker_peak_mb:8.0f} MB "
            f"{outcome.total_peak_mb:7.0f} MB {rate:10.2f}  {ended}  ({rate / base:.2f}x before)"
        )
        if outcome.label.startswith("after") and outcome.worker_peak_mb >= args.limit_mb:
            failed = True
        unexpected = set(outcome.statuses) - {"302", "503"}
        if outcome.label.startswith("after") and unexpected:
            failed = True
    verdict = "MISSED" if failed else "met"
    print(
        f"Target: a worker's peak RSS < {args.limit_mb:.0f} MB with the portal's parameters, "
        f"every attempt signed in or told to try again: {verdict}; load average {load_average()}"
    )
    return failed


if __name__ == "__main__":
    main()
