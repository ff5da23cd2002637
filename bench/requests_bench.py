"""Records-request benchmark at scale: archive search, a request page and the staff queue.

Seeds a throw-away database (created as the owner role, used as the app role, dropped at the
end) with ``--requests`` records requests spread evenly over ``--agencies`` agencies, with
request-like titles and descriptions generated in SQL (each agency inside its RLS context;
then, by default, the table is put in arrival order so agencies share pages as they do in
production), then measures pages in-process through Django's test client (the full
middleware stack: host, RLS context, session, audit), so the figures are server-side and
include no network. One agency (the "big queue" agency) has exactly 10,000 open or submitted
requests; its admin is signed in for the staff queue. For every page that misses its target
the report shows where the time goes and EXPLAIN ANALYZE of its slowest queries.

Targets (issue 3): archive full-text search p95 <= 50 ms, staff queue p95 <= 100 ms.

    make bench-requests
    .venv/bin/python bench/requests_bench.py --requests 20000 --agencies 5   (a quick check)
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import re
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SEARCH_TARGET_MS = 50.0
QUEUE_TARGET_MS = 100.0
BIG_QUEUE_OPEN = 10_000
HISTORY_DAYS = 3 * 365
WARM_UP = 20
REQUESTS_TABLE = "requests_portal_recordsrequest"
# Written by the seeding SQL itself, agency by agency (the other tables that hang off a
# request, if any, are filled by triggers).
SEEDED_TABLES = (
    "requests_portal_recordsrequest",
    "requests_portal_requestdepartment",
    "requests_portal_timelineevent",
    "requests_portal_requestcounter",
)

# --- Vocabulary ----------------------------------------------------------------------------
# Lists are drawn from with a skew (earlier entries far more often), so full-text search
# meets what a real archive has: a few very common words, many medium ones, a long rare tail.

DOCUMENTS = [
    "emails", "police reports", "contracts", "incident reports", "invoices",
    "building permits", "inspection reports", "meeting minutes", "text messages",
    "budget documents", "body camera footage", "911 call recordings", "payroll records",
    "purchase orders", "personnel files", "code enforcement complaints", "dispatch logs",
    "arrest records", "traffic crash reports", "settlement agreements", "bid proposals",
    "grant applications", "audit reports", "use of force reports",
    "zoning variance applications", "restaurant inspection reports",
    "water quality test results", "disciplinary records", "vendor payments",
    "travel expense reports", "calendar entries", "phone logs", "surveillance video",
    "litigation files", "environmental assessments", "fire inspection reports",
    "animal control reports", "procurement records", "internal affairs investigations",
    "tax abatement agreements",
]  # fmt: skip
SUBJECTS = [
    "the Main Street reconstruction project", "police overtime", "the water main break",
    "the downtown parking garage", "snow removal operations", "the landfill expansion",
    "short-term rental enforcement", "the library renovation", "school resource officers",
    "the encampment cleanup at Riverside Park", "lead service line replacement",
    "the city manager search", "red light cameras", "the stormwater utility fee",
    "the sewer rate increase", "tree removal on public property", "the transit contract",
    "the annual operating budget", "the youth sports complex", "the police pursuit policy",
    "noise complaints", "abandoned vehicles", "a dog bite incident",
    "a sidewalk trip and fall claim", "the mayor's travel", "city credit card purchases",
    "ambulance response times", "the affordable housing program",
    "the riverfront redevelopment", "the convention center hotel", "pothole repairs",
    "the bridge inspection program", "the fire station closure", "license plate readers",
    "the opioid settlement funds", "the election equipment purchase", "the golf course lease",
    "the bike lane expansion", "the rezoning of the mill district", "the jail medical contract",
    "the property tax reassessment", "an employee harassment complaint",
    "the wastewater treatment plant upgrade", "the streetlight conversion to LED",
    "the broadband franchise agreement", "drone surveillance flights",
    "the fireworks ordinance", "the animal shelter intake policy",
    "the ransomware attack on city servers", "the cemetery plot records",
]  # fmt: skip
STREETS = [
    "Main", "Oak", "Maple", "Washington", "Park", "Elm", "Lincoln", "Church", "Pine",
    "Walnut", "Jefferson", "Madison", "Cedar", "Lake", "Hill", "Jackson", "Chestnut",
    "Franklin", "Spring", "Union", "Highland", "Center", "Ridge", "Water", "Mill", "Market",
    "River", "Sunset", "Cherry", "Adams", "Grant", "Monroe", "Prospect", "Liberty",
    "Meadow", "Willow", "Forest", "Broad", "Locust", "Spruce", "Sycamore", "Hickory",
    "Magnolia", "Dogwood", "Poplar", "Birch", "Laurel", "Juniper", "Hawthorne", "Aspen",
    "Cypress", "Tamarack", "Buckeye", "Quarry", "Foundry", "Tannery", "Kestrel", "Larkspur",
]  # fmt: skip
STREET_KINDS = ["Street", "Avenue", "Road", "Drive", "Lane", "Boulevard", "Court", "Place"]
DEPARTMENTS = [
    "Police Department", "City Clerk", "Public Works", "Finance Department",
    "Fire Department", "Human Resources", "Planning and Zoning", "Building Department",
    "Parks and Recreation", "City Attorney", "Water Utility", "Code Enforcement",
    "Mayor's Office", "Information Technology", "Health Department", "Animal Services",
    "Transportation", "Housing Authority",
]  # fmt: skip
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty",
    "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Joshua",
    "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Brian", "Amanda", "Luis", "Melissa",
    "Jorge", "Deborah", "Wei", "Priya", "Aisha", "Mohammed",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins",
    "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz",
    "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim",
    "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett",
    "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel",
    "Myers", "Long", "Ross", "Foster", "Jimenez", "Kowalczyk", "Okonkwo", "Lindqvist",
    "Abernathy", "Vukovich", "Thibodeaux", "Nakamura", "Oyelaran", "Szymanski", "Quintanilla",
]  # fmt: skip
VENDORS = [
    "Acme Paving", "Tyler Technologies", "Motorola Solutions", "Waste Management",
    "Granite Construction", "Axon Enterprise", "CDW Government", "Siemens Mobility",
    "Republic Services", "Kimley-Horn", "Stantec", "Jacobs Engineering", "Xylem",
    "Verizon Wireless", "Carahsoft", "Hach Company", "Vulcan Materials", "Black and Veatch",
    "Cintas", "Grainger", "Ferguson Waterworks", "Badger Meter", "ShotSpotter",
    "Clearview AI", "Flock Safety",
]  # fmt: skip
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
# format() templates; the positional arguments are the row's words (see _SEED_SQL):
# 1 document, 2 subject, 3 address, 4 department, 5 person, 6 month, 7 year, 8 vendor,
# 9 second document, 10 case number, 11 second person, 12 second address, 13 "since" date,
# 14 second subject.
TITLES = [
    "%1$s related to %2$s",
    "%1$s for %3$s",
    "%1$s from the %4$s, %6$s %7$s",
    "%1$s involving %5$s",
    "%2$s: %1$s and %9$s",
    "%1$s, case %10$s",
    "%1$s regarding %8$s",
    "request for %1$s about %14$s",
    "%4$s %1$s since %13$s",
    "%1$s and %9$s for %12$s",
]
OPENINGS = [
    "I am requesting copies of all %1$s related to %2$s.",
    "Please provide any %1$s created or received by the %4$s between %6$s %7$s and today.",
    "Under the public records law, I request %1$s concerning the property at %3$s.",
    "I would like to obtain %1$s and %9$s involving %5$s.",
    "Requesting all %1$s exchanged between %5$s and %11$s regarding %2$s.",
    "This is a request for %1$s associated with case number %10$s.",
    "Seeking %1$s pertaining to %8$s, including any amendments and change orders.",
    "Please send me the %1$s for %3$s and %12$s from %7$s.",
    "I am looking for %1$s that mention %14$s, dated %13$s or later.",
]
DETAILS = [
    "This includes %9$s, attachments, and any drafts.",
    "The incident occurred near %3$s on or around %6$s %7$s.",
    "I believe the %4$s handled this matter and %5$s may be the contact.",
    "Records should cover the period from %13$s to the present.",
    "Please include correspondence with %8$s and any related %9$s.",
    "I am particularly interested in documents about %14$s.",
    "If any portion is withheld, please cite the specific exemption that applies.",
    "This relates to an insurance claim for damage at %12$s.",
    "Names of juveniles and victims may be redacted.",
    "Please search the files of %5$s and %11$s.",
    "A previous request on %2$s was closed without records, so please search again.",
    "The vehicle was towed from %3$s by order of the %4$s.",
]
CLOSINGS = [
    "Electronic copies by email are preferred.",
    "I am willing to pay reasonable copying fees up to fifty dollars; please contact me "
    "before exceeding that amount.",
    "Please contact me if you need clarification about the scope of this request.",
    "A PDF or spreadsheet format would be ideal.",
    "Thank you for your assistance.",
    "I am a reporter and request a fee waiver because disclosure is in the public interest.",
    "Paper copies can be mailed to the address on file.",
    "Please let me know the estimated cost and timeline before processing.",
]
CITATIONS = {
    "Records released in part (some withheld)": "Exemption 7(c): personal privacy",
    "Denied: an exemption applies": "Exemption 5: deliberative process",
}

# Search phrases by intended selectivity; the report shows how many requests each matched.
SEARCH_TERMS = {
    "rare": ["Flock Safety", "Kowalczyk", "Tamarack Road", "Quintanilla", "ShotSpotter"],
    "medium": ["body camera", "building permits", "Maple", "overtime", "Tyler Technologies"],
    "common": ["records", "emails", "copies", "police", "please provide"],
}


# --- Timing helpers ------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Result:
    name: str
    samples: list[float]
    target_ms: float | None = None
    by_key: dict[str, list[float]] = field(default_factory=dict)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def missed(self) -> bool:
        return self.target_ms is not None and self.p95 > self.target_ms

    def slowest_key(self) -> str:
        return max(self.by_key, key=lambda key: statistics.median(self.by_key[key]))


def time_pages(client, name: str, paths: list[str], n: int, target_ms: float | None = None):
    """n GETs cycling through paths, after a warm-up; each must answer 200."""
    for i in range(WARM_UP):
        client.get(paths[i % len(paths)])
    result = Result(name, [], target_ms)
    for i in range(n):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code)
        result.samples.append(elapsed)
        result.by_key.setdefault(path, []).append(elapsed)
    return result


def run_logged(client, path: str) -> tuple[float, list[tuple[float, str]]]:
    """GET path once; its total time and every SQL statement it ran, with its time (ms)."""
    from django.db import connection

    logged: list[tuple[float, str]] = []

    def timer(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - began) * 1000
            text = connection.ops.last_executed_query(context["cursor"], sql, params)
            logged.append((ms, text or sql))

    with connection.execute_wrapper(timer):
        start = time.perf_counter()
        response = client.get(path)
        total = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return total, logged


def time_replay(name: str, agency, statements: list[list[str]], n: int) -> Result:
    """Replay the SELECTs a page ran (one list per path, cycled), n times, each time in its
    own transaction in the agency's RLS context: the page's database time without Django."""
    from django.db import connection

    from accounts.tenancy import agency_context

    result = Result(name, [])
    for i in range(-WARM_UP, n):
        with agency_context(agency), connection.cursor() as cursor:
            start = time.perf_counter()
            for sql in statements[i % len(statements)]:
                cursor.execute(sql)
                cursor.fetchall()
            elapsed = (time.perf_counter() - start) * 1000
        if i >= 0:
            result.samples.append(elapsed)
    return result


def _statement_labels(statements: list[str]) -> str:
    """What each query is, e.g. "counts from requests_portal_recordsrequest, page from ..."."""
    labels: dict[str, int] = {}
    for sql in statements:
        head = " ".join(sql.split())
        table = re.search(r'\bFROM "([a-z_]+)"', head)
        if head.startswith("SELECT COUNT"):
            kind = "counts" if "FILTER (WHERE" in head else "count"
            kind = f"capped {kind}" if " LIMIT " in head else kind
        else:
            kind = "page" if " LIMIT " in head else "rows"
        label = f"{kind} from {table.group(1) if table else '?'}"
        labels[label] = labels.get(label, 0) + 1
    return ", ".join(f"{label} x{count}" if count > 1 else label for label, count in labels.items())


def report(result: Result, baseline_p50: float | None) -> None:
    ratio = f"{result.p50 / baseline_p50:6.1f}x" if baseline_p50 else "  1.0x (baseline)"
    verdict = ""
    if result.target_ms is not None:
        verdict = f"  {'MISS' if result.missed else 'PASS'} (p95 <= {result.target_ms:.0f} ms)"
    print(
        f"  {result.name:<50} p50 {result.p50:7.2f} ms  p95 {result.p95:7.2f} ms  "
        f"{1000 / statistics.mean(result.samples):6.0f} req/s  {ratio}{verdict}"
    )


# --- Database ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests to seed")
    parser.add_argument("--agencies", type=int, default=50, help="agencies to spread them over")
    parser.add_argument("--samples", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="seeding connections"
    )
    parser.add_argument(
        "--layout",
        choices=["arrival", "agency"],
        default="arrival",
        help="physical row order: arrival (agencies interleaved, as in production; default) or "
        "agency (each agency's rows together, as seeded: faster per-agency scans)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the query breakdown and EXPLAIN ANALYZE for every page, not only misses",
    )
    args = parser.parse_args()
    if args.agencies < 2 or args.requests < args.agencies * 100:
        parser.error("need at least 2 agencies and 100 requests per agency")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    # The measured app modules are imported now, before the long seeding phase.
    import config.urls  # noqa: F401
    from requests_portal import access, search  # noqa: F401
    from requests_portal.views import archive, queue, resident, staff_request  # noqa: F401
    from tests.db_helpers import connected_as_owner

    # DEBUG off, as in production: no per-query logging in the measured requests.
    setup_test_environment(debug=False)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_requests_{os.getpid()}"
    started = time.perf_counter()
    with connected_as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        print(
            f"Requests benchmark: {args.requests:,} requests over {args.agencies} agencies, "
            f"{args.samples} samples per page, in-process, PostgreSQL"
        )
        print(
            f"  code: {_code_version()}; machine: {os.cpu_count()} CPUs, load average {_load()} "
            "(other work on the machine skews timings)"
        )
        print(
            f"  throw-away database created and migrated in {time.perf_counter() - started:.1f} s"
        )
        world = seed(args)
        measure(args, world)
    finally:
        from django.db import connections

        connections.close_all()
        with connected_as_owner():
            teardown_databases(db_cfg, verbosity=0)
        print("Throw-away database dropped.")


def _code_version() -> str:
    import subprocess

    def git(*argv: str) -> str:
        run = subprocess.run(  # noqa: S603 (fixed arguments)
            ["git", *argv],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return run.stdout.strip()

    changed = len(git("status", "--porcelain", "--untracked-files=no").splitlines())
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"git {head}" + (f" + {changed} changed files" if changed else "")


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def owner_execute(statements: list[str]) -> None:
    """Run statements as the table owner (the app role may not drop or build indexes)."""
    from tests.db_helpers import owner_connection

    with owner_connection(autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def owner_fetch(query: str, params=None) -> list[tuple]:
    from tests.db_helpers import owner_connection

    with owner_connection(autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


# --- Seeding -------------------------------------------------------------------------------


@dataclass
class SeedAgency:
    agency: object
    rows: int
    queue_open: int  # > 0 only for the big-queue agency
    staff_ids: list[int]
    department_ids: list[int]
    reason_ids: list[int]
    reason_names: list[str]
    citations: list[str]


@dataclass
class World:
    queue: SeedAgency
    search: SeedAgency
    queue_admin: object
    platform_host: str = ""
    tables: list[str] = field(default_factory=list)  # the requests and the tables off them


def _uniforms(count: int) -> str:
    # u<k>: a pseudo-random number in [0, 1), a pure function of the row, the agency's seed
    # and k, so every run seeds the same data.
    return ",\n        ".join(
        f"(hashint8extended(g, %(seed)s::bigint + {k}) & 2147483647)::float8 / 2147483648.0 AS u{k}"
        for k in range(1, count + 1)
    )


def _pick(array: str, u: int, skew: float = 1.0) -> str:
    """An element of a vocabulary array; skew > 1 favours the first entries (Zipf-like)."""
    return f"v.{array}[1 + floor(cardinality(v.{array}) * power(u{u}, {skew}::float8))::int]"


def _address(u: int) -> str:
    return (
        f"(100 + floor(u{u} * 9900))::int || ' ' || {_pick('streets', u + 1, 1.3)} "
        f"|| ' ' || {_pick('street_kinds', u + 2, 1.5)}"
    )


# One statement per agency, run as the app role inside the agency's RLS context: requests
# (the search vector comes from the table's trigger), their lead department, their public
# timeline, and the yearly number counters. Sequences are per (agency, year), in date order.
# Only constants are interpolated into the text; every value travels as a parameter.
_SEED_SQL = f"""
WITH v AS (
    SELECT %(documents)s::text[] AS documents, %(subjects)s::text[] AS subjects,
        %(streets)s::text[] AS streets, %(street_kinds)s::text[] AS street_kinds,
        %(departments)s::text[] AS departments, %(first_names)s::text[] AS first_names,
        %(last_names)s::text[] AS last_names, %(vendors)s::text[] AS vendors,
        %(months)s::text[] AS months, %(titles)s::text[] AS titles,
        %(openings)s::text[] AS openings, %(details)s::text[] AS details,
        %(closings)s::text[] AS closings, %(staff)s::bigint[] AS staff,
        %(department_ids)s::bigint[] AS department_ids, %(reasons)s::bigint[] AS reasons,
        %(reason_names)s::text[] AS reason_names, %(citations)s::text[] AS citations
),
r AS (
    SELECT g,
        {_uniforms(45)}
    FROM generate_series(1::bigint, %(rows)s::bigint) AS g
),
s AS (
    SELECT r.*,
        CASE
            WHEN %(queue_open)s > 0 THEN CASE
                WHEN g <= %(queue_open)s THEN CASE WHEN u1 < 0.6 THEN 'open' ELSE 'submitted' END
                WHEN u1 < 0.97 THEN 'closed'
                ELSE 'paused' END
            WHEN u1 < 0.70 THEN 'closed'
            WHEN u1 < 0.82 THEN 'open'
            WHEN u1 < 0.94 THEN 'submitted'
            ELSE 'paused'
        END AS status
    FROM r
),
d AS (
    SELECT s.*,
        current_date - CASE WHEN status = 'closed' THEN floor(u2 * %(history_days)s)::int
                            ELSE floor(u2 * u2 * 180)::int END AS day_zero
    FROM s
),
t AS (
    SELECT d.*,
        least(now(), ((day_zero + time '08:00') + make_interval(mins => floor(u3 * 540)::int))
            AT TIME ZONE %(time_zone)s) AS received_at,
        extract(year FROM day_zero)::int AS year
    FROM d
),
w AS (
    SELECT t.*,
        ARRAY[
            {_pick("documents", 4, 2.0)},
            {_pick("subjects", 5, 1.7)},
            {_address(6)},
            {_pick("departments", 9, 1.5)},
            {_pick("first_names", 10, 1.5)} || ' ' || {_pick("last_names", 11, 2.5)},
            {_pick("months", 12)},
            (year - CASE WHEN u13 < 0.5 THEN 1 ELSE 0 END)::text,
            {_pick("vendors", 14, 2.5)},
            {_pick("documents", 15, 1.5)},
            to_char(day_zero, 'YY') || '-' || lpad(floor(u16 * 999999)::int::text, 6, '0'),
            {_pick("first_names", 17, 1.5)} || ' ' || {_pick("last_names", 18, 2.5)},
            {_address(19)},
            {_pick("months", 22)} || ' ' || (year - 1 - floor(u23 * 3)::int),
            {_pick("subjects", 24)}
        ] AS a,
        {_pick("first_names", 25, 1.2)} AS requester_first,
        {_pick("last_names", 26, 1.5)} AS requester_last,
        {_pick("titles", 27, 1.3)} AS title_template,
        {_pick("openings", 28, 1.2)} AS opening,
        {_pick("details", 29)} AS detail,
        CASE WHEN u30 < 0.5 THEN ' ' || {_pick("details", 31)} ELSE '' END AS detail2,
        {_pick("closings", 32)} AS closing,
        1 + floor(cardinality(v.reasons) * power(u33, 1.5::float8))::int AS reason_index,
        CASE WHEN u34 < 0.85 THEN 'published' WHEN u34 < 0.90 THEN 'embargoed'
             WHEN u34 < 0.95 THEN 'all_staff' WHEN u34 < 0.98 THEN 'department'
             ELSE 'restricted' END AS visibility,
        CASE WHEN u35 < 0.75 THEN 'web' WHEN u35 < 0.88 THEN 'email'
             WHEN u35 < 0.94 THEN 'phone' WHEN u35 < 0.98 THEN 'mail'
             ELSE 'in_person' END AS channel,
        CASE WHEN u36 < 0.88 THEN 'electronic' WHEN u36 < 0.94 THEN 'mail'
             WHEN u36 < 0.98 THEN 'pickup' ELSE 'inspect' END AS delivery,
        CASE WHEN u37 < 0.8 THEN v.staff[1 + floor(cardinality(v.staff) * u38)::int] END
            AS point_of_contact_id
    FROM t, v
),
x AS (
    SELECT w.*,
        format(title_template, VARIADIC a) AS title0,
        format(opening, VARIADIC a) || ' ' || format(detail, VARIADIC a)
            || format(detail2, VARIADIC a) || ' ' || closing AS description,
        CASE WHEN status = 'closed' THEN least(now(), received_at
            + make_interval(days => 1 + floor(u39 * 40)::int, hours => floor(u40 * 8)::int))
        END AS closed_at,
        CASE WHEN status <> 'submitted'
            THEN least(now(), received_at + make_interval(hours => 2 + floor(u41 * 60)::int))
        END AS acknowledged_at,
        CASE WHEN status = 'paused' THEN least(now(), received_at + interval '3 days')
        END AS paused_at
    FROM w
),
ins AS (
    INSERT INTO requests_portal_recordsrequest (
        agency_id, year, sequence, title, description, status, visibility, channel, delivery,
        requester_id, requester_name, requester_email, requester_phone, requester_address,
        point_of_contact_id, received_at, day_zero, due_date, acknowledge_due_date,
        acknowledged_at, paused_at, pause_reason, remaining_days, counting_method, closed_at,
        closure_reason_id, closure_citation, public_from, created_at, updated_at
        {{requests_cols}}
    )
    SELECT
        %(agency)s, year,
        row_number() OVER (PARTITION BY year ORDER BY received_at, g),
        left(upper(left(title0, 1)) || substr(title0, 2), 200),
        description, status, visibility, channel, delivery,
        NULL, requester_first || ' ' || requester_last,
        CASE WHEN u42 < 0.9 THEN lower(requester_first || '.' || requester_last)
            || mod(g, 97) || '@example.com' ELSE '' END,
        CASE WHEN u43 < 0.4 THEN '555-01' || lpad(mod(g, 100)::text, 2, '0') ELSE '' END,
        CASE WHEN delivery = 'mail' THEN a[12] || ', Springfield' ELSE '' END,
        point_of_contact_id, received_at, day_zero,
        day_zero + 14 + CASE WHEN u44 < 0.1 THEN 10 ELSE 0 END,
        day_zero + 5,
        acknowledged_at, paused_at,
        CASE WHEN status = 'paused' THEN 'Waiting for the requester to narrow the scope'
             ELSE '' END,
        CASE WHEN status = 'paused' THEN 5 END,
        'business', closed_at,
        CASE WHEN status = 'closed' THEN v.reasons[reason_index] END,
        CASE WHEN status = 'closed' THEN v.citations[reason_index] ELSE '' END,
        closed_at + CASE WHEN visibility = 'embargoed' THEN interval '30 days'
                         ELSE interval '0 days' END,
        received_at,
        greatest(received_at, closed_at, paused_at, acknowledged_at)
        {{requests_vals}}
    FROM x, v
    RETURNING id, agency_id, year, sequence, status, channel, received_at, day_zero, due_date,
        acknowledged_at, closed_at, closure_reason_id, closure_citation, point_of_contact_id
),
departments AS (
    INSERT INTO requests_portal_requestdepartment (
        agency_id, request_id, department_id, is_lead {{departments_cols}}
    )
    SELECT agency_id, id,
        v.department_ids[1 + mod(hashint8(id) & 2147483647, cardinality(v.department_ids))],
        true {{departments_vals}}
    FROM ins, v
    RETURNING 1
),
timeline AS (
    INSERT INTO requests_portal_timelineevent (
        agency_id, request_id, kind, actor_id, is_public, summary, data, created_at
        {{timeline_cols}}
    )
    SELECT e.* {{timeline_vals}} FROM (
        SELECT agency_id, id, 'submitted', NULL::bigint, true,
            'Request received (' || CASE channel WHEN 'web' THEN 'web form'
                WHEN 'in_person' THEN 'in person' ELSE channel END
            || '); due ' || to_char(due_date, 'FMMonth FMDD, YYYY'),
            jsonb_build_object('due_date', due_date, 'day_zero', day_zero), received_at
        FROM ins
        UNION ALL
        SELECT agency_id, id, 'acknowledged', point_of_contact_id, true, 'Request acknowledged',
            '{{}}'::jsonb, acknowledged_at
        FROM ins WHERE acknowledged_at IS NOT NULL
        UNION ALL
        SELECT agency_id, id, 'closed', point_of_contact_id, true,
            'Closed: ' || v.reason_names[array_position(v.reasons, closure_reason_id)]
            || CASE WHEN closure_citation <> '' THEN ' (' || closure_citation || ')' ELSE '' END,
            jsonb_build_object('note', ''), closed_at
        FROM ins, v WHERE status = 'closed'
    ) AS e
    RETURNING 1
),
counters AS (
    INSERT INTO requests_portal_requestcounter (agency_id, year, last_number {{counters_cols}})
    SELECT agency_id, year, max(sequence) {{counters_vals}} FROM ins GROUP BY agency_id, year
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM departments),
    (SELECT count(*) FROM timeline), (SELECT count(*) FROM counters)
"""  # noqa: S608 (constants only)


def _seeded_models() -> dict:
    from requests_portal.models import (
        RecordsRequest,
        RequestCounter,
        RequestDepartment,
        TimelineEvent,
    )

    return {
        "requests": RecordsRequest,
        "departments": RequestDepartment,
        "timeline": TimelineEvent,
        "counters": RequestCounter,
    }


_SEEDED_MODELS: dict = {}
_DEFAULTED: set[str] = set()  # NOT NULL columns the seeding SQL does not know, given defaults


def _create_agencies(args) -> tuple[list[SeedAgency], object]:
    from django.contrib.auth.hashers import make_password

    from accounts.models import Agency, Membership, Role, User
    from accounts.tenancy import agency_context
    from requests_portal.models import ClosureReason, Department
    from requests_portal.services.agency_settings import agency_setup_defaults

    this_year = datetime.date.today().year
    years = list(range(this_year - HISTORY_DAYS // 365 - 1, this_year + 2))
    per_agency, extra = divmod(args.requests, args.agencies)
    unusable = make_password(None)
    seeded, queue_admin = [], None
    for n in range(args.agencies):
        slug = f"city-{n + 1:02d}"
        agency = Agency.objects.create(slug=slug, name=f"City {n + 1:02d}")
        rows = per_agency + (1 if n < extra else 0)
        users = User.objects.bulk_create(
            [User(email=f"admin@{slug}.bench.test", full_name="Agency Admin", password=unusable)]
            + [
                User(
                    email=f"staff{k}@{slug}.bench.test",
                    full_name=f"{FIRST_NAMES[k]} {LAST_NAMES[k]}",
                    password=unusable,
                )
                for k in range(6)
            ]
        )
        with agency_context(agency):
            agency_setup_defaults(agency=agency, years=years)
            Membership.objects.bulk_create(
                [Membership(agency=agency, user=users[0], role=Role.ADMIN)]
                + [Membership(agency=agency, user=u, role=Role.STAFF) for u in users[1:]]
            )
            departments = Department.objects.bulk_create(
                [Department(agency=agency, name=name) for name in DEPARTMENTS[:10]]
            )
            reasons = list(ClosureReason.objects.filter(agency=agency).order_by("pk"))
        if n == 0:
            queue_admin = users[0]
        seeded.append(
            SeedAgency(
                agency=agency,
                rows=rows,
                queue_open=min(BIG_QUEUE_OPEN, rows) if n == 0 else 0,
                staff_ids=[u.pk for u in users],
                department_ids=[d.pk for d in departments],
                reason_ids=[r.pk for r in reasons],
                reason_names=[r.name for r in reasons],
                citations=[CITATIONS.get(r.name, "") for r in reasons],
            )
        )
    return seeded, queue_admin


def _not_null_defaults(model, sql: str, key: str) -> tuple[str, str, dict]:
    """Columns of ``model`` that the seeding SQL does not name but that are NOT NULL (added
    by a later migration, say): filled with the model field's default (an empty string for a
    blank text field, as Django's own), or refused."""
    from django.db import connection

    start = sql.index(f"INSERT INTO {model._meta.db_table} (")
    named = set(re.split(r"[\s,(]+", sql[start : sql.index(")", start)]))
    columns, values, params = [], [], {}
    for f in model._meta.concrete_fields:
        if f.null or f.primary_key or f.column in named:
            continue
        # A blank text column without a default gets "", as a model instance would.
        if not f.has_default() and not (f.blank and f.empty_strings_allowed):
            raise RuntimeError(
                f"{model._meta.db_table}.{f.column} is NOT NULL without a default: "
                "bench/requests_bench.py must learn to fill it"
            )
        name = f"{key}_{f.column}"
        default = f.get_default() if f.has_default() else ""
        params[name] = f.get_db_prep_save(default, connection)
        columns.append(f.column)
        values.append(f"%({name})s")
    if not columns:
        return "", "", {}
    _DEFAULTED.update(f"{model._meta.db_table}.{column}" for column in columns)
    return ", " + ", ".join(columns), ", " + ", ".join(values), params


def _seed_agency(item: SeedAgency) -> tuple[int, int, int]:
    from django.db import connection, connections

    from accounts.tenancy import agency_context

    params = {
        "documents": DOCUMENTS,
        "subjects": SUBJECTS,
        "streets": STREETS,
        "street_kinds": STREET_KINDS,
        "departments": DEPARTMENTS,
        "first_names": FIRST_NAMES,
        "last_names": LAST_NAMES,
        "vendors": VENDORS,
        "months": MONTHS,
        "titles": TITLES,
        "openings": OPENINGS,
        "details": DETAILS,
        "closings": CLOSINGS,
        "staff": item.staff_ids,
        "department_ids": item.department_ids,
        "reasons": item.reason_ids,
        "reason_names": item.reason_names,
        "citations": item.citations,
        "rows": item.rows,
        "seed": item.agency.pk * 1000,
        "queue_open": item.queue_open,
        "history_days": HISTORY_DAYS,
        "time_zone": item.agency.time_zone,
        "agency": item.agency.pk,
    }
    sql = _SEED_SQL
    for key, model in _SEEDED_MODELS.items():
        columns, values, defaults = _not_null_defaults(model, sql, key)
        sql = sql.replace(f"{{{key}_cols}}", columns).replace(f"{{{key}_vals}}", values)
        params.update(defaults)
    try:
        with agency_context(item.agency), connection.cursor() as cursor:
            cursor.execute(sql, params)
            requests, departments, timeline, _ = cursor.fetchone()
        assert requests == item.rows, (requests, item.rows)
        return requests, departments, timeline
    finally:
        connections.close_all()  # this thread's connection


def seed(args) -> World:
    from django.conf import settings

    _SEEDED_MODELS.update(_seeded_models())
    print("Seeding:")
    start = time.perf_counter()
    seeded, queue_admin = _create_agencies(args)
    print(
        f"  {args.agencies} agencies with settings, holidays, 10 departments and 7 staff each "
        f"in {time.perf_counter() - start:.1f} s"
    )

    # The tables the load fills: the requests, their counters, and every table that hangs
    # off a request (written by the seeding SQL, or by triggers such as a search index).
    referencing = owner_fetch(
        """
        SELECT c.conrelid::regclass::text, a.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = %s::regclass
        ORDER BY 1
        """,
        [REQUESTS_TABLE],
    )
    tables = [REQUESTS_TABLE, "requests_portal_requestcounter"] + [t for t, _ in referencing]

    # Secondary indexes are built once after the load (much faster than row by row); the
    # primary keys and unique constraints stay, so the load is still checked.
    indexes = owner_fetch(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [tables],
    )
    owner_execute([f'DROP INDEX "{name}"' for name, _ in indexes])

    start = time.perf_counter()
    totals = [0, 0, 0]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for counts in pool.map(_seed_agency, seeded):
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
    load = time.perf_counter() - start
    print(
        f"  {totals[0]:,} requests (+ {totals[1]:,} department links, {totals[2]:,} timeline "
        f"events; {args.jobs} connections; search vectors and any other trigger-maintained "
        "rows written by the portal's own triggers)"
    )
    print(
        f"    in {load:.1f} s: {totals[0] / load:,.0f} requests/s, {sum(totals) / load:,.0f} rows/s"
    )
    if _DEFAULTED:
        print(f"    (filled with the model default: {', '.join(sorted(_DEFAULTED))})")

    if args.layout == "arrival":
        start = time.perf_counter()
        reordered = _arrival_order(
            [(table, column) for table, column in referencing if table not in SEEDED_TABLES]
        )
        print(
            f"  {', '.join(reordered)} put in arrival order, agencies interleaved, "
            f"in {time.perf_counter() - start:.1f} s"
        )
    else:
        print("  rows left stored agency by agency (--layout agency)")

    from tests.db_helpers import owner_connection

    start = time.perf_counter()
    builds = []
    with owner_connection(autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in indexes:
            began = time.perf_counter()
            conn.execute(definition)
            builds.append((name, time.perf_counter() - began))
    build = time.perf_counter() - start
    slowest = ", ".join(
        f"{name} {secs:.1f} s" for name, secs in sorted(builds, key=lambda b: -b[1])[:3]
    )
    print(f"  {len(indexes)} secondary indexes rebuilt in {build:.1f} s (slowest: {slowest})")

    start = time.perf_counter()
    owner_execute([f'VACUUM (ANALYZE) "{table}"' for table in tables])
    print(f"  VACUUM ANALYZE in {time.perf_counter() - start:.1f} s")
    size = owner_fetch(
        f"SELECT pg_size_pretty(pg_total_relation_size('{REQUESTS_TABLE}')), "
        "pg_size_pretty(pg_database_size(current_database()))"
    )[0]
    gins = owner_fetch(
        """
        SELECT i.indexrelid::regclass::text, pg_size_pretty(pg_relation_size(i.indexrelid))
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE am.amname = 'gin' AND i.indrelid::regclass::text = ANY(%s) ORDER BY 1
        """,
        [tables],
    )
    print(
        f"  requests table {size[0]} with its indexes; database {size[1]}; GIN indexes: "
        + ", ".join(f"{name} {gin_size}" for name, gin_size in gins)
    )
    return World(
        queue=seeded[0],
        search=seeded[1],
        queue_admin=queue_admin,
        platform_host=settings.PORTAL_BASE_DOMAIN,
        tables=tables,
    )


def _arrival_order(per_request_tables: list[tuple[str, str]]) -> list[str]:
    """Store the requests (and per-request tables that triggers filled, such as a search
    index) in arrival order, every agency's rows mixed on the same pages as in production.

    The seeding wrote each agency in one go, so its rows sit together and a per-agency scan
    would touch several times fewer pages than in production. The owner reorders the tables
    in one transaction of this throw-away database: CLUSTER reads no rows through the
    policies; the per-request tables are rewritten with FORCE ROW LEVEL SECURITY lifted for
    the owner inside the transaction and restored before it commits (checked below).
    """
    from psycopg import sql

    from tests.db_helpers import owner_connection

    tables = [REQUESTS_TABLE] + [table for table, _ in per_request_tables]
    forced_before = dict(
        owner_fetch(
            "SELECT relname, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
            [tables],
        )
    )

    def force(conn, table: str, on: bool) -> None:
        if forced_before.get(table):
            state = "FORCE" if on else "NO FORCE"
            conn.execute(
                sql.SQL("ALTER TABLE {} " + state + " ROW LEVEL SECURITY").format(
                    sql.Identifier(table)
                )
            )

    reordered = [REQUESTS_TABLE]
    with owner_connection() as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Check foreign keys (deferred by Django) at each statement: ALTER TABLE refuses a
        # table with pending trigger events.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        conn.execute(f"CREATE INDEX bench_arrival_order ON {REQUESTS_TABLE} (received_at, id)")
        conn.execute(f"CLUSTER {REQUESTS_TABLE} USING bench_arrival_order")
        conn.execute("DROP INDEX bench_arrival_order")
        force(conn, REQUESTS_TABLE, False)
        for table, column in per_request_tables:
            name = sql.Identifier(table)
            force(conn, table, False)
            if conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(name)).fetchone()[0]:
                conn.execute(
                    sql.SQL(
                        "CREATE TEMP TABLE bench_reorder AS SELECT t.* FROM {} t "
                        "JOIN {} r ON r.id = t.{} ORDER BY r.received_at, r.id"
                    ).format(name, sql.Identifier(REQUESTS_TABLE), sql.Identifier(column))
                )
                referenced = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_constraint "
                    "WHERE contype = 'f' AND confrelid = %s::regclass)",
                    [table],
                ).fetchone()[0]
                # TRUNCATE keeps the file compact; a table others reference needs DELETE.
                conn.execute(
                    sql.SQL("DELETE FROM {}" if referenced else "TRUNCATE {}").format(name)
                )
                conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM bench_reorder").format(name))
                conn.execute("DROP TABLE bench_reorder")
                reordered.append(table)
            force(conn, table, True)
        force(conn, REQUESTS_TABLE, True)
        conn.commit()
    forced_after = dict(
        owner_fetch(
            "SELECT relname, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
            [tables],
        )
    )
    assert forced_after == forced_before, (forced_before, forced_after)
    return reordered


# --- Measuring -----------------------------------------------------------------------------


def _queue_rows(user, agency, status: str = ""):
    """The requests the staff queue lists by default (not closed) or with ?status=overdue,
    for the report's header."""
    from accounts.local_time import agency_today
    from requests_portal import queue_access

    filters = {"status": status}
    return queue_access.staff_queue_for(user, agency, filters, today=agency_today(agency)).requests


def measure(args, world: World) -> None:
    from django.test import Client

    from accounts.tenancy import agency_context
    from requests_portal import access
    from requests_portal.models import RecordsRequest, Status, Visibility
    from requests_portal.search import search
    from tests.conftest import mark_fully_signed_in

    search_agency, queue_agency, admin = world.search.agency, world.queue.agency, world.queue_admin
    n = args.samples
    # The request log line of every measured request would drown the report (and its
    # writing is no part of a page's cost worth timing here).
    logging.getLogger("portal.requests").setLevel(logging.WARNING)

    with agency_context(search_agency):
        public = access.public_requests(search_agency)
        public_count = public.count()
        matches = {
            term: search(public, term).count() for terms in SEARCH_TERMS.values() for term in terms
        }
        # Published requests only: an embargoed one may still be under embargo (404).
        numbers = [
            r.number
            for r in public.filter(visibility=Visibility.PUBLISHED)
            .order_by("?")
            .only("year", "sequence")[:n]
        ]
    with agency_context(queue_agency):
        queue_rows = RecordsRequest.objects.filter(agency=queue_agency).count()
        queue_open = RecordsRequest.objects.filter(
            agency=queue_agency, status__in=[Status.OPEN, Status.SUBMITTED]
        ).count()
        queue_not_closed = _queue_rows(admin, queue_agency).count()
        queue_overdue = _queue_rows(admin, queue_agency, "overdue").count()

    print(
        f"Search on {search_agency.slug}: {world.search.rows:,} requests, {public_count:,} public; "
        "matches per term:"
    )
    for kind, terms in SEARCH_TERMS.items():
        listed = ", ".join(
            f"{term!r} {matches[term]:,} ({100 * matches[term] / max(public_count, 1):.1f}%)"
            for term in terms
        )
        print(f"  {kind:<7} {listed}")
    print(
        f"Staff queue on {queue_agency.slug}: {queue_rows:,} requests, {queue_open:,} open or "
        f"submitted, {queue_not_closed:,} not closed (the default view), "
        f"{queue_overdue:,} overdue; signed in as its admin"
    )

    anonymous = Client(HTTP_HOST=f"{search_agency.slug}.{world.platform_host}")
    staff = Client(HTTP_HOST=f"{queue_agency.slug}.{world.platform_host}")
    staff.force_login(admin)
    # The admin must use two-factor (the agency's policy): the session is one that passed it,
    # as after a real sign-in with the authenticator's code (the suite's own helper).
    mark_fully_signed_in(staff)
    platform = Client(HTTP_HOST=world.platform_host)

    print(
        "Request latency (server-side: in-process test client, full middleware stack, "
        "one transaction per request):"
    )
    baseline = time_pages(platform, "platform /healthz (baseline: SELECT 1)", ["/healthz"], n)
    report(baseline, None)
    base = baseline.p50
    pages: list[tuple[Result, Client, object]] = []
    search_results = []
    for kind, terms in SEARCH_TERMS.items():
        paths = [f"/archive/?{urlencode({'q': term})}" for term in terms]
        result = time_pages(
            anonymous, f"archive search, {kind} terms ({len(terms)})", paths, n, SEARCH_TARGET_MS
        )
        report(result, base)
        pages.append((result, anonymous, search_agency))
        search_results.append(result)
    mixed = Result(
        "archive search, all terms together",
        [s for r in search_results for s in r.samples],
        SEARCH_TARGET_MS,
        {k: v for r in search_results for k, v in r.by_key.items()},
    )
    report(mixed, base)
    archive = time_pages(anonymous, "archive, no query (newest first)", ["/archive/"], n)
    report(archive, base)
    pages.append((archive, anonymous, search_agency))
    detail = time_pages(
        anonymous,
        f"request page, anonymous ({len(numbers)} requests)",
        [f"/requests/{number}/" for number in numbers],
        n,
    )
    report(detail, base)
    pages.append((detail, anonymous, search_agency))
    queue = time_pages(
        staff,
        f"staff queue, default ({queue_not_closed:,} not closed)",
        ["/staff/requests/"],
        n,
        QUEUE_TARGET_MS,
    )
    report(queue, base)
    pages.append((queue, staff, queue_agency))
    overdue = time_pages(
        staff,
        f"staff queue, ?status=overdue ({queue_overdue:,})",
        ["/staff/requests/?status=overdue"],
        n,
        QUEUE_TARGET_MS,
    )
    report(overdue, base)
    pages.append((overdue, staff, queue_agency))

    print(
        "Database time of those pages: the SELECTs each page ran on the request tables, "
        "replayed as the app role in the agency's RLS context:"
    )
    for result, client, agency in pages:
        per_path = []
        for path in result.by_key:
            _, logged = run_logged(client, path)
            per_path.append(
                [
                    sql
                    for _, sql in logged
                    if sql.lstrip().startswith("SELECT")
                    and any(f'"{table}"' in sql for table in world.tables)
                ]
            )
        replay = time_replay(f"  SQL of {result.name}", agency, per_path, n)
        report(replay, base)
        print(f"      {len(per_path[0])} queries: {_statement_labels(per_path[0])}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of the benchmark process: {peak_mb:.0f} MB; load average now {_load()}")

    for label, results in (("search", [*search_results, mixed]), ("queue", [queue, overdue])):
        worst = max(results, key=lambda r: r.p95)
        verdict = "MISS" if any(r.missed for r in results) else "PASS"
        print(
            f"Target {label} p95 <= {worst.target_ms:.0f} ms: {verdict} "
            f"(worst p95 {worst.p95:.1f} ms: {worst.name})"
        )
    for result, client, agency in pages:
        if args.explain or result.missed:
            explain_page(result, client, agency)


def explain_page(result: Result, client, agency) -> None:
    """Where a page's time goes: its queries, slowest first, and the two slowest plans."""
    from django.db import connection

    from accounts.tenancy import agency_context

    path = result.slowest_key()
    total, timed = run_logged(client, path)
    sql_ms = sum(ms for ms, _ in timed)
    print(
        f"\n{path}: {total:.1f} ms, {len(timed)} queries taking {sql_ms:.1f} ms "
        f"(the rest, {total - sql_ms:.1f} ms, is Python: middleware, view, forms, template)"
    )
    slowest = sorted(timed, key=lambda q: -q[0])
    for ms, sql in slowest[:4]:
        print(f"  {ms:7.2f} ms  {' '.join(sql.split())[:150]}")
    for ms, sql in [q for q in slowest if q[1].lstrip().startswith("SELECT")][:2]:
        with agency_context(agency), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        print(
            f"  EXPLAIN (ANALYZE, BUFFERS) of the {ms:.1f} ms query, as the app role in the "
            "agency's RLS context:"
        )
        print(f"  {' '.join(sql.split())[:400]}")
        for line in plan:
            print(f"    {line}")
        if " @@ " in sql and not any("@@" in line and "Cond:" in line for line in plan):
            _explain_unused_gin()


_NOTES_SHOWN: set[str] = set()


def _explain_unused_gin() -> None:
    """Say once why the full-text GIN index is not in the plan, if that is the reason."""
    if "gin" in _NOTES_SHOWN:
        return
    _NOTES_SHOWN.add("gin")
    leakproof = owner_fetch(
        "SELECT p.proname, p.proleakproof FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode "
        "WHERE o.oprname = '@@' AND o.oprleft = 'tsvector'::regtype "
        "AND o.oprright = 'tsquery'::regtype"
    )
    for name, is_leakproof in leakproof:
        if not is_leakproof:
            print(
                f"  Note: no full-text index is used. The @@ operator ({name}) is "
                "not LEAKPROOF, so under row-level security PostgreSQL may not use it as an "
                "index condition ahead of the policy: it tests @@ row by row on every row of "
                "the agency (an index on (agency_id, search_vector) would not change that)."
            )


if __name__ == "__main__":
    main()
