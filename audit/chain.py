"""Writing to and verifying the per-agency SHA-256 chains of the audit log.

Each event's hash covers every stored field and the previous event's hash, so changing,
removing or reordering any row breaks the chain from that row on; ``audit_verify`` names the
first broken link. Each chain has a head row (``audit_chainhead``, migration 0008): an append
locks it and reads the previous hash in one statement, and the insert's trigger moves it on
and refuses an event that does not follow it, so two concurrent requests can never both
chain onto the same previous event (a fork), and writers of different chains never wait
for each other.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import queue
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from audit import registry
from audit.models import AuditArchive, AuditEvent

GENESIS_HASH = "0" * 64
_LOCK_CLASS = 0x41554449  # "AUDI": the audit app's advisory-lock namespace (the sealer's lock)
# In one round trip: the chain's head hash, locked until the transaction ends (a writer of
# the same chain waits here, then reads the head the other one left), the database clock
# read once the chain is ours, and the IP address and details exactly as PostgreSQL will
# hand them back (its inet and jsonb forms), so the hash computed now is the hash
# audit_verify recomputes later. The head is a row of its own: no search of the monthly
# partitions for the chain's newest event.
_HEAD_SQL = """
    SELECT h.head_hash, h.chained_at, host(%s::inet), %s::jsonb::text
    FROM audit_lock_chain_head(%s) h
"""
_INSERT_SQL = """
    INSERT INTO audit_auditevent
        (agency_id, actor_id, acting_as_grant_id, action, target_type, target_id, ip,
         user_agent, request_id, created_at, details, prev_hash, hash)
    VALUES (%s, %s, %s, %s, %s, %s, %s::inet, %s, %s, %s, %s::jsonb, %s, %s)
    RETURNING id
"""


def _valid_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def _clean_text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; a request path or header may.
    return value.replace("\x00", "\ufffd")


def _clean_details(value: object) -> object:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_details(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_details(v) for v in value]
    return value


def _canonical(event: AuditEvent) -> bytes:
    created_at = event.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    body = {
        "agency": event.agency_id,
        "actor": event.actor_id,
        "acting_as_grant": event.acting_as_grant_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "created_at": created_at,
        "details": event.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + _canonical(event)).hexdigest()


def append(
    action: str,
    *,
    agency_id: int | None,
    actor_id: int | None = None,
    target_type: str = "",
    target_id: str = "",
    details: Mapping[str, object] | None = None,
    ip: str | None = None,
    user_agent: str = "",
    request_id: str = "",
    acting_as_grant_id: int | None = None,
) -> AuditEvent:
    """Chain one event. Runs inside the caller's transaction, so it commits or rolls back
    with the change it records."""
    registry.get(action)  # unknown codes raise before anything is written
    # NaN and infinities have no JSON form: refuse them here, with a clear error.
    details_json = json.dumps(_clean_details(details or {}), allow_nan=False)
    # No savepoint: the event belongs to the caller's transaction, and if this fails the
    # caller's change must fail with it.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- locks and reads the chain head in one statement; bound
            cursor.execute(_HEAD_SQL, [_valid_ip(ip), details_json, agency_id or None])
            prev_hash, now, stored_ip, stored_details = cursor.fetchone()
        event = AuditEvent(
            agency_id=agency_id,
            actor_id=actor_id,
            acting_as_grant_id=acting_as_grant_id,
            action=action,
            target_type=_clean_text(target_type)[:80],
            target_id=_clean_text(str(target_id))[:64],
            ip=stored_ip,
            user_agent=_clean_text(user_agent or "")[:512],
            request_id=_clean_text(request_id or "")[:64],
            created_at=now,
            details=json.loads(stored_details),
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event, prev_hash)
        with connection.cursor() as cursor:
            # The insert written out rather than event.save(): the ORM's insert machinery was
            # a quarter of an append's CPU (bench/audit_bench.py). The details go back as the
            # jsonb text PostgreSQL handed out above, the exact value that was hashed.
            # nosemgrep: portal-raw-sql -- hand-written insert for speed (see above); bound values
            cursor.execute(
                _INSERT_SQL,
                [
                    event.agency_id,
                    event.actor_id,
                    event.acting_as_grant_id,
                    event.action,
                    event.target_type,
                    event.target_id,
                    event.ip,
                    event.user_agent,
                    event.request_id,
                    event.created_at,
                    stored_details,
                    event.prev_hash,
                    event.hash,
                ],
            )
            (event.pk,) = cursor.fetchone()
        event._state.adding = False
        event._state.db = connection.alias
    return event


@dataclass(frozen=True)
class ChainReport:
    agency_id: int | None
    events: int
    first_broken_id: int | None = None
    reason: str = ""
    # (event id, hash) of the event at each position (1 = the first event) the caller asked
    # about, among those the walk reached: what audit_verify compares with the seals.
    at: Mapping[int, tuple[int, str]] = field(default_factory=dict)
    # Events before the first online one, in verified archives (audit/retention.py): the
    # walk's positions count them, so seals made before a month was archived still line up.
    archived: int = 0
    # How the chain's head row (audit_chainhead) disagrees with the walk of an intact
    # chain; "" when it agrees (or the chain is broken: the break is the finding).
    head_problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


# The walk reads exactly the fields the hash covers, as tuples, through a server-side cursor,
# in the forms append() hashed: the address as host(inet), the time already in isoformat's
# spelling (UTC, microseconds), the details as jsonb text (parsed once, here).
_WALK_SQL = """
    SELECT id, agency_id, actor_id, acting_as_grant_id, action, target_type, target_id,
           host(ip), user_agent, request_id,
           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
           details::text, prev_hash, hash
    FROM audit_auditevent
    WHERE agency_id = %s ORDER BY id
"""
_PLATFORM_WALK_SQL = """
    SELECT id, agency_id, actor_id, acting_as_grant_id, action, target_type, target_id,
           host(ip), user_agent, request_id,
           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
           details::text, prev_hash, hash
    FROM audit_auditevent
    WHERE agency_id IS NULL ORDER BY id
"""
_WALK_BATCH = 20_000
_BIGINT_MAX = 2**63 - 1
# _canonical's JSON with its keys in sorted order, filled in per row: only the details need
# the encoder (their keys are sorted at every depth); the other fields are numbers, null or
# strings quoted as json.dumps quotes them. test_chain's round trips hold the two together.
_TEMPLATE = (
    '{"acting_as_grant":%s,"action":%s,"actor":%s,"agency":%s,"created_at":"%s",'
    '"details":%s,"ip":%s,"request_id":%s,"target_id":%s,"target_type":%s,"user_agent":%s}'
)


def _canonical_encoder() -> Callable[[object], str]:
    """json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False), as
    _canonical spells it, without building an encoder per call: the C encoder itself where
    the interpreter has it (the walk's hottest line), else an encoder made once."""
    options = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    encoder = json.JSONEncoder(**options)  # type: ignore[arg-type]
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover (CPython always has it)
        return encoder.encode
    # markers None: no cycle check (parsed JSON has no cycles); then default, the string
    # encoder (ensure_ascii=False), indent, separators, sort_keys, skipkeys, allow_nan.
    iterencode = make(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, True
    )
    return lambda value: "".join(iterencode(value, 0))


def _prefetched(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    """The cursor's rows in batches, the next batch fetched on a thread while the caller
    hashes this one: PostgreSQL reads and sends (on another core) while Python hashes, and
    the driver waits for the network without the GIL. The thread has the connection to
    itself until it ends, which is before this generator finishes, however it finishes."""
    batches: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set() and (rows := cursor.fetchmany(_WALK_BATCH)):
                batches.put(rows)
        except BaseException as error:  # noqa: BLE001 (handed to the caller's thread)
            batches.put(error)
        finally:
            batches.put(None)

    thread = threading.Thread(target=fetch, name="audit-walk-fetch", daemon=True)
    thread.start()
    try:
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a fetcher blocked on a full queue finish
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.05)
        thread.join()


def verify_chain(agency_id: int | None, positions: Collection[int] = ()) -> ChainReport:
    """Recompute one chain from its start; stop at the first event that does not match.
    Also hands back the event at each of ``positions`` (1-based) that the walk reached.

    The caller must have set the chain's tenant context (audit_verify does), inside a
    transaction (the server-side cursor lives in it)."""
    wanted = set(positions)
    at: dict[int, tuple[int, str]] = {}
    prev_hash = GENESIS_HASH
    count = 0
    archived = 0
    first = _first_online(agency_id)
    if first is not None and first[1] != GENESIS_HASH:
        # Older months were archived: the chain goes on from the newest archive's last hash,
        # if the archives themselves link up from genesis (before the walk's cursor opens).
        prev_hash, archived, problem = _archived_start(agency_id, first[0])
        count = archived
        if problem:
            return ChainReport(agency_id, count + 1, first[0], problem, at, archived)
    last_id = 0
    loads, sha256, encode = json.loads, hashlib.sha256, _canonical_encoder()
    quote = json.encoder.encode_basestring  # a JSON string, as ensure_ascii=False writes it
    agency = "null" if agency_id is None else str(int(agency_id))
    raw = connection.connection  # psycopg's own connection: tuples, no model instances
    with raw.cursor(name=f"audit_walk_{agency_id or 0}") as cursor:
        cursor.itersize = _WALK_BATCH
        if agency_id:
            # nosemgrep: portal-raw-sql -- server-side cursor walk of the chain; bound parameter
            cursor.execute(_WALK_SQL, [agency_id])
        else:
            # nosemgrep: portal-raw-sql -- server-side cursor walk of the platform chain; fixed SQL
            cursor.execute(_PLATFORM_WALK_SQL)
        for rows in _prefetched(cursor):
            for row in rows:
                count += 1
                if row[12] != prev_hash:
                    return ChainReport(
                        agency_id, count, row[0], "previous-hash link does not match", at, archived
                    )
                canonical = _TEMPLATE % (
                    "null" if row[3] is None else row[3],
                    quote(row[4]),
                    "null" if row[2] is None else row[2],
                    agency,
                    row[10],
                    encode(loads(row[11])),
                    "null" if row[7] is None else quote(row[7]),
                    quote(row[9]),
                    quote(row[6]),
                    quote(row[5]),
                    quote(row[8]),
                )
                digest = sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
                if digest != row[13]:
                    return ChainReport(
                        agency_id, count, row[0], "contents do not match their hash", at, archived
                    )
                prev_hash = digest
                last_id = row[0]
                if count in wanted:
                    at[count] = (row[0], digest)
    problem = _head_problem(agency_id, count, (last_id, prev_hash) if last_id else None)
    return ChainReport(agency_id, count, at=at, archived=archived, head_problem=problem)


# The head row, and, in the same snapshot (appends commit their event and the head's move
# together), how many events the chain has past the walk's end and the hash of the event
# the head names: events appended while the walk ran are not a disagreement.
_HEAD_CHECK_SQL = """
    SELECT h.last_id, h.last_hash, h.events,
           (SELECT count(*) FROM audit_auditevent e WHERE {chain} AND e.id > %s),
           (SELECT e.hash FROM audit_auditevent e WHERE {chain} AND e.id = h.last_id)
    FROM audit_chainhead h WHERE h.chain = %s
"""


def _head_problem(agency_id: int | None, walked: int, end: tuple[int, str] | None) -> str:
    """Compare the chain's head row with the end of an intact walk. The head is not
    trusted (the walk is): a head ahead of the events means events were removed past the
    triggers, or the head was written by hand."""
    chain = "e.agency_id = %s" if agency_id else "e.agency_id IS NULL"
    params: list[int] = [agency_id] if agency_id else []
    end_id = end[0] if end else 0
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- head row against the walk; fixed fragments, bound values
        cursor.execute(
            _HEAD_CHECK_SQL.format(chain=chain), [*params, end_id, *params, agency_id or 0]
        )
        row = cursor.fetchone()
    if row is None:
        if walked == 0:
            return ""
        return f"the chain has {walked} events but no head row"
    last_id, last_hash, events, newer, hash_of_last = row
    if newer == 0 and end is None and events:
        # Every month of the chain is archived: the newest archive ends it.
        archived_hash, archived, _ = _archived_start(agency_id, _BIGINT_MAX)
        agrees = events == archived and last_hash == archived_hash
    elif newer == 0:
        agrees = events == walked and (end is None or (last_id, last_hash) == end)
    else:  # appended during the walk: the head must name the newest of them
        agrees = events == walked + newer and hash_of_last == last_hash
    if agrees or (events == 0 and walked == 0):
        return ""
    return (
        f"the chain's head records {events} events ending at event {last_id}, but the chain "
        f"has {walked + newer}"
        + (f" ending at event {end[0]}" if end and not newer else "")
        + ": events were removed past the triggers, or the head was rewritten"
    )


def _first_online(agency_id: int | None) -> tuple[int, str] | None:
    """(id, previous hash) of the chain's oldest event still in the database."""
    chain = (
        AuditEvent.objects.filter(agency_id=agency_id)
        if agency_id
        else AuditEvent.objects.filter(agency__isnull=True)
    )
    first = chain.order_by("id").values_list("id", "prev_hash").first()
    return None if first is None else (first[0], first[1])


def _archived_start(agency_id: int | None, first_online_id: int) -> tuple[str, int, str]:
    """(hash the first online event must follow, events archived before it, problem)."""
    archives = (
        AuditArchive.objects.filter(agency_id=agency_id)
        if agency_id
        else AuditArchive.objects.filter(agency__isnull=True)
    )
    prev_hash, count = GENESIS_HASH, 0
    for archive in archives.filter(verified_at__isnull=False, last_id__lt=first_online_id).order_by(
        "month"
    ):
        if archive.first_prev_hash != prev_hash:
            return prev_hash, count, f"archived month {archive.month:%Y-%m} does not link up"
        prev_hash, count = archive.last_hash, count + archive.events
    if count == 0:
        return prev_hash, count, "previous-hash link does not match"
    return prev_hash, count, ""


def set_chain_context(agency_id: int | None) -> None:
    """Point row-level security at one chain (the platform chain when agency_id is None)."""
    set_rls_context(agency_id, platform=agency_id is None)


def set_rls_context(agency_id: int | None, *, platform: bool) -> None:
    """Set, for the rest of the current transaction, which agency row-level security lets
    this connection see (and whether it sees platform rows). The one place the settings are
    written: the audit app is the lowest that needs them, and accounts.tenancy (above it)
    sets every request's and task's context through here."""
    with connection.cursor() as cursor, _one_round_trip():
        # nosemgrep: portal-raw-sql -- sets the RLS context settings; bound parameters
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
            [
                settings.TENANT_DB_SETTING,
                "" if agency_id is None else str(int(agency_id)),
                settings.PLATFORM_DB_SETTING,
                "on" if platform else "off",
            ],
        )


def _one_round_trip() -> contextlib.AbstractContextManager[object]:
    """psycopg's pipeline mode around the context's statement: the transaction's BEGIN, which
    psycopg sends before a transaction's first statement, and the statement go together and
    are answered together (one round trip instead of two on every request). Nothing is read
    from the statement, and any error it raises still raises, when the pipeline ends."""
    raw = connection.connection  # open: the caller's cursor() connected it
    return raw.pipeline() if raw is not None else contextlib.nullcontext()


def verify_all(agency_ids: list[int]) -> list[ChainReport]:
    reports = []
    for agency_id in [None, *agency_ids]:
        with transaction.atomic():
            set_chain_context(agency_id)
            reports.append(verify_chain(agency_id))
    return reports
