"""Sign-in benchmark: what one password sign-in costs, and how many one web process sustains.

Measures, in one run, on a throw-away database (created as the owner role, used as the app
role, dropped at the end) and in-process through Django's test client:

- the Argon2id parameters actually in use (read from the hasher and from a stored hash),
  next to OWASP's minimum (m=19 MiB, t=2, p=1);
- baselines: one raw Argon2 verify with those parameters, and /healthz through the full
  middleware stack;
- a full sign-in (POST /accounts/login/ with a fresh client: Argon2 verify, new session,
  audit event, django-axes bookkeeping, session tracking), a wrong password and an unknown
  email (these two should take about as long as each other: no account-existence oracle);
- sign-ins per second for one thread and for two threads of the same process;
- peak RSS, and RSS growth across the sign-in loops.

The latency lines are measured in interleaved rounds (verify, sign-in, wrong password,
unknown email), so a busy shared machine skews them alike; each line also shows CPU time,
which other processes disturb less than wall time. Every attempt comes from its own client
address and django-axes is reset after each round, so neither the lockout nor the
per-address rate limit takes part.

    make bench-login      (or: .venv/bin/python bench/login_bench.py --logins 60 --seconds 10)
"""

from __future__ import annotations

import argparse
import itertools
import logging
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

PASSWORD = "correct horse battery staple 2718"  # noqa: S105 (a throw-away test account)
WRONG_PASSWORD = "correct horse battery staple 2719"  # noqa: S105
EMAIL = "resident@bench.test"
# OWASP Password Storage Cheat Sheet, Argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_MIN = {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}
FAILED_MESSAGE = "That email address and password do not match an account."


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def current_rss_mb() -> float | None:
    """Resident set size now (Linux /proc); None elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def threads_during(fn) -> int | None:
    """Most threads this process had while ``fn`` ran (Linux /proc), less the main thread
    and the sampler: how many threads ``fn`` started. None elsewhere."""
    task_dir = Path("/proc/self/task")
    if not task_dir.is_dir():
        return None
    seen, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen[0] = max(seen[0], len(os.listdir(task_dir)))
            time.sleep(0.0005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return max(0, seen[0] - 2)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report_latency(
    name: str, samples: list[float], cpu: list[float] | None, baselines: dict[str, float]
) -> None:
    p50, p95 = percentile(samples, 0.50), percentile(samples, 0.95)
    used = f"CPU {statistics.mean(cpu):6.1f} ms" if cpu else " " * 13
    ratios = "  ".join(f"{p50 / base:6.2f}x {label}" for label, base in baselines.items())
    print(f"  {name:<34} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {used}  {ratios or '(baseline)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=60, help="rounds of the latency lines")
    parser.add_argument("--seconds", type=float, default=10, help="length of each loop")
    parser.add_argument("--requests", type=int, default=200, help="/healthz requests")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from tests.db_helpers import connected_as_owner

    # django-axes logs every failed attempt at WARNING; a few hundred of them would bury the
    # table (the logging call itself stays in the measured path).
    logging.getLogger("axes").setLevel(logging.ERROR)
    started = time.perf_counter()
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_login_{os.getpid()}"
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        run(args, settings)
    finally:
        with connected_as_owner():
            teardown_databases(db_cfg, verbosity=0)
    print(
        f"Whole run, database set-up and tear-down included: {time.perf_counter() - started:.0f} s"
    )


def run(args, settings) -> None:
    import argon2
    import axes.utils
    from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher
    from django.db import connections
    from django.test import Client, override_settings

    from accounts.models import Agency, User
    from accounts.tenancy import agency_context

    hasher = get_hasher()  # the first of PASSWORD_HASHERS: what new passwords get
    assert isinstance(hasher, Argon2PasswordHasher), f"default hasher is {hasher.algorithm}"

    agency = Agency.objects.create(slug="bench", name="Bench City")
    with agency_context(agency):
        user = User.objects.create_user(EMAIL, PASSWORD)  # a resident: no membership, no 2FA
    encoded = user.password
    decoded = hasher.decode(encoded)
    host = f"bench.{settings.PORTAL_BASE_DOMAIN}"
    addresses = (f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}" for n in itertools.count())
    address_lock = threading.Lock()

    def next_address() -> str:
        with address_lock:
            return next(addresses)

    def timed(fn, *args):
        """(wall ms, process CPU ms, result) of one call."""
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result

    def sign_in(password: str, email: str = EMAIL):
        """One attempt from a brand-new browser at a new address."""
        client = Client(HTTP_HOST=host, REMOTE_ADDR=next_address())
        return client.post("/accounts/login/", {"username": email, "password": password})

    def good_sign_in():
        response = sign_in(PASSWORD)
        assert response.status_code == 302, (response.status_code, response.content[:300])
        assert response["Location"] == "/", response["Location"]

    def bad_sign_in(email: str):
        response = sign_in(WRONG_PASSWORD, email)
        assert response.status_code == 200, response.status_code
        assert FAILED_MESSAGE in response.content.decode(), "no sign-in error shown"

    load = os.getloadavg()
    print(
        f"Sign-in benchmark: {args.logins} attempts per line, {args.seconds:g} s loops, "
        f"in-process, PostgreSQL; {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start"
    )

    # 1. Parameters ---------------------------------------------------------------------
    print(f"Argon2 parameters ({type(hasher).__module__}.{type(hasher).__name__}):")
    for label, key, unit in (
        ("memory_cost", "memory_cost", "KiB"),
        ("time_cost", "time_cost", "passes"),
        ("parallelism", "parallelism", "lanes"),
    ):
        value, floor = getattr(hasher, key), OWASP_MIN[key]
        verdict = "ok" if value >= floor else "BELOW OWASP MINIMUM"
        extra = f" ({value / 1024:g} MiB)" if unit == "KiB" else ""
        print(f"  {label:<12} {value:>7} {unit:<6}{extra:<12} OWASP minimum {floor:>6}  {verdict}")
    prefix = encoded.rsplit("$", 2)[0]
    print(f"  stored hash  {prefix}$<salt>$<hash>")
    stored = (decoded["memory_cost"], decoded["time_cost"], decoded["parallelism"])
    configured = (hasher.memory_cost, hasher.time_cost, hasher.parallelism)
    assert decoded["algorithm"] == "argon2" and "argon2id$v=19" in encoded, encoded[:40]
    assert stored == configured, (stored, configured)

    # 2. Baselines ----------------------------------------------------------------------
    raw = argon2.PasswordHasher.from_parameters(hasher.params())
    raw_hash = encoded.removeprefix(hasher.algorithm)  # "$argon2id$v=19$m=..."
    assert raw.verify(raw_hash, PASSWORD)
    spawned = threads_during(lambda: raw.verify(raw_hash, PASSWORD))

    platform = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)
    for _ in range(20):
        platform.get("/healthz")
    health_ms = []
    for _ in range(args.requests):
        start = time.perf_counter()
        response = platform.get("/healthz")
        health_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    health_p50 = percentile(health_ms, 0.5)

    # 3. Latency ------------------------------------------------------------------------
    # One round = a raw verify, a sign-in, a wrong password, an unknown email, back to back,
    # so all four lines see the same machine (other processes come and go on a shared one).
    lines = ("verify", "success", "wrong", "unknown")
    wall_ms: dict[str, list[float]] = {line: [] for line in lines}
    cpu_ms: dict[str, list[float]] = {line: [] for line in lines}
    # Unique addresses already keep every attempt under the per-address limit; a high limit
    # makes sure the throughput loops never meet it either.
    with override_settings(RATE_LIMIT_LOGIN_PER_IP="1000000/m"):
        for _ in range(2):  # warm-up: templates, URL resolver, connection
            good_sign_in()
            bad_sign_in(EMAIL)
        axes.utils.reset()
        rss_before = current_rss_mb()
        for n in range(args.logins):
            for line, fn, fn_args in (
                ("verify", raw.verify, (raw_hash, PASSWORD)),
                ("success", good_sign_in, ()),
                ("wrong", bad_sign_in, (EMAIL,)),
                ("unknown", bad_sign_in, (f"nobody{n}@bench.test",)),
            ):
                wall, cpu, _ = timed(fn, *fn_args)
                wall_ms[line].append(wall)
                cpu_ms[line].append(cpu)
            axes.utils.reset()  # between rounds: no failure count ever builds up

        verify_p50 = percentile(wall_ms["verify"], 0.5)
        cores_per_verify = statistics.mean(cpu_ms["verify"]) / statistics.mean(wall_ms["verify"])
        print("Baselines:")
        report_latency("argon2 verify, raw", wall_ms["verify"], cpu_ms["verify"], {})
        report_latency(f"platform /healthz ({args.requests} requests)", health_ms, None, {})
        ratios = {"verify": verify_p50, "healthz": health_p50}
        print(f"Sign-in (POST /accounts/login/, new client and address each, {args.logins}x):")
        report_latency(
            "success, resident (302 to /)", wall_ms["success"], cpu_ms["success"], ratios
        )
        report_latency("wrong password, known email", wall_ms["wrong"], cpu_ms["wrong"], ratios)
        report_latency("unknown email", wall_ms["unknown"], cpu_ms["unknown"], ratios)
        beyond = percentile(wall_ms["success"], 0.5) - verify_p50
        parity = percentile(wall_ms["unknown"], 0.5) / percentile(wall_ms["wrong"], 0.5)
        cpu_parity = statistics.mean(cpu_ms["unknown"]) / statistics.mean(cpu_ms["wrong"])
        if not 0.8 <= cpu_parity <= 1.25:
            verdict = "DIFFERENT work: a timing oracle"
        elif 0.8 <= parity <= 1.25:
            verdict = "similar"
        else:
            verdict = "same CPU work; the wall-clock gap is other processes' noise"
        print(
            f"  success beyond the verify: {beyond:.1f} ms p50 (session, audit event, axes, "
            "session list)"
        )
        print(
            f"  unknown email / wrong password: p50 {parity:.2f}x, "
            f"CPU {cpu_parity:.2f}x ({verdict})"
        )

        # 4. Throughput -------------------------------------------------------------------
        def loop(deadline: float, counts: list[int], errors: list[BaseException]) -> None:
            try:
                done = 0
                while time.perf_counter() < deadline:
                    good_sign_in()
                    done += 1
                counts.append(done)
            except BaseException as exc:  # noqa: BLE001 (re-raised in the main thread)
                errors.append(exc)
            finally:
                if threading.current_thread() is not threading.main_thread():
                    connections.close_all()

        print(f"Throughput, successful sign-ins, one process ({args.seconds:g} s each):")
        results = {}
        for threads in (1, 2):
            counts: list[int] = []
            errors: list[BaseException] = []
            wall, cpu = time.perf_counter(), time.process_time()
            deadline = wall + args.seconds
            if threads == 1:
                loop(deadline, counts, errors)
            else:
                workers = [
                    threading.Thread(target=loop, args=(deadline, counts, errors))
                    for _ in range(threads)
                ]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            if errors:
                raise errors[0]
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rate = sum(counts) / wall
            results[threads] = rate
            vs = f"{rate / results[1]:.2f}x one thread" if threads > 1 else "baseline"
            print(
                f"  {threads} thread{'s' if threads > 1 else ' '} {sum(counts):5d} sign-ins "
                f"{rate:7.2f} /s  ({vs}; {cpu / wall:.2f} cores busy; "
                f"{1000 * threads / rate:.0f} ms each)"
            )
        axes.utils.reset()
        rss_after = current_rss_mb()

    verify_cpu = statistics.mean(cpu_ms["verify"])
    ceiling = (os.cpu_count() or 1) / (verify_cpu / 1000)
    print(
        f"  CPU ceiling: {os.cpu_count()} CPUs / {verify_cpu:.0f} ms CPU per verify = "
        f"{ceiling:.1f} sign-ins/s at best"
    )
    print(
        f"  Argon2 p={hasher.parallelism}: a verify was seen running "
        f"{'?' if spawned is None else spawned} threads at once and kept "
        f"{cores_per_verify:.2f} cores busy on average (1.0 = one core; other processes cap it)"
    )

    # 5. Memory -------------------------------------------------------------------------
    growth = (
        f"; RSS {rss_before:.0f} MB before the sign-in loops, {rss_after:.0f} MB after "
        f"({rss_after - rss_before:+.0f} MB)"
        if rss_before is not None and rss_after is not None
        else ""
    )
    print(
        f"Memory: peak RSS {peak_rss_mb():.0f} MB{growth}; "
        f"each verify in flight needs {hasher.memory_cost / 1024:g} MiB"
    )
    load = os.getloadavg()
    print(f"Load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
