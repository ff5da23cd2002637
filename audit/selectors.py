"""Reads of the audit log, always for one agency."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.db.models.lookups import IContains
from django.http import Http404

from audit import registry
from audit.models import AuditEvent


def events_for_agency(
    agency_id: int, *, action: str | None = None, actions: Iterable[str] | None = None
) -> QuerySet[AuditEvent]:
    """The agency's events, newest first: of one type (``action``), or of any of
    ``actions`` (a category's types)."""
    events = AuditEvent.objects.filter(agency_id=agency_id).order_by("-id")
    if action:
        events = events.filter(action=action)
    if actions is not None:
        events = events.filter(action__in=list(actions))
    return events


def events_of_grant(
    agency_id: int, grant_id: int, *, grant_type: str, limit: int = 1000
) -> list[AuditEvent]:
    """A support-access grant's whole life on the agency's chain, oldest first: the events
    about the grant (a row of ``grant_type``: asked, approved, ended...) and every event
    recorded under it (``acting_as_grant_id``)."""
    about = Q(target_type=grant_type, target_id=str(grant_id))
    return list(
        AuditEvent.objects.filter(agency_id=agency_id)
        .filter(Q(acting_as_grant_id=grant_id) | about)
        .order_by("id")[:limit]
    )


class DescribedEvent(TypedDict):
    event: AuditEvent
    actor: str
    sentence: str
    label: str
    category: str


def actor_names(actor_ids: Iterable[int]) -> dict[int, str]:
    ids = {pk for pk in actor_ids if pk}
    users = get_user_model().objects.in_bulk(ids) if ids else {}
    return {pk: str(user) for pk, user in users.items()}


def describe(events: Iterable[AuditEvent]) -> list[DescribedEvent]:
    """Events with a human sentence each, resolving actors in one query and the rows they
    are about in one query per kind of row."""
    events = list(events)
    actors = actor_names(e.actor_id for e in events if e.actor_id)
    targets: dict[tuple[str, str], str] = {}
    for agency_id in {e.agency_id for e in events if e.agency_id}:
        targets.update(
            registry.name_targets(
                agency_id,
                ((e.target_type, e.target_id) for e in events if e.agency_id == agency_id),
            )
        )
    return [describe_one(event, actors, targets) for event in events]


def describe_one(
    event: AuditEvent, actors: dict[int, str], targets: dict[tuple[str, str], str]
) -> DescribedEvent:
    if event.actor_id:
        actor = actors.get(event.actor_id, "a person no longer on record")
    else:
        actor = "The system" if _is_system(event) else "Someone"
    target = targets.get((event.target_type, event.target_id), "")
    details = event.details if isinstance(event.details, dict) else {}
    try:
        event_type = registry.get(event.action)
    except LookupError:
        return {
            "event": event,
            "actor": actor,
            "sentence": registry.describe_unknown(event.action, actor=actor),
            "label": registry.humanise_code(event.action),
            "category": registry.OTHER.label,
        }
    return {
        "event": event,
        "actor": actor,
        "sentence": _capitalised(event_type.describe(actor=actor, target=target, details=details)),
        "label": event_type.title,
        "category": event_type.category.label,
    }


def _is_system(event: AuditEvent) -> bool:
    """No person and no web request: a background job or a command did it."""
    return not event.request_id and not event.ip


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


# --- Filters and keyset pages -----------------------------------------------------------------

PAGE_SIZE = 50  # events a page shows


@dataclass(frozen=True)
class EventFilters:
    """What the viewer and the exports narrow the log to; every part optional. ``start`` and
    ``end`` are instants (the agency's calendar days, already turned into UTC by the form),
    ``end`` exclusive; ``ip`` an address or a network; ``search`` plain text, never a
    pattern (wildcards in it are matched literally)."""

    actions: tuple[str, ...] | None = None
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    ip: str = ""
    search: str = ""

    def as_q(self) -> Q:
        q = Q()
        if self.actions is not None:
            q &= Q(action__in=list(self.actions))
        if self.actor:
            q &= Q(actor_id__in=_actors_matching(self.actor))
        if self.target_type:
            q &= Q(target_type=self.target_type)
        if self.target_id:
            q &= Q(target_id=self.target_id)
        if self.start is not None:
            q &= Q(created_at__gte=self.start)
        if self.end is not None:
            q &= Q(created_at__lt=self.end)
        if self.ip:
            if "/" in self.ip:
                # inet "is contained by or equals": PostgreSQL turns it into a range of the
                # (agency, ip, created_at, id) index. Raw SQL because the ORM has no lookup
                # for <<=; the network is a bound parameter, already checked by the filter
                # form (tests/audit/test_viewer_filters.py: a /24, and hostile values).
                # nosemgrep: portal-raw-sql -- inet <<= has no ORM lookup; bound parameter
                q &= Q(RawSQL('"audit_auditevent"."ip" <<= %s::inet', [self.ip], BooleanField()))
            else:
                q &= Q(ip=self.ip)
        if self.search:
            q &= self.search_q()
        return q

    def search_needle(self) -> str:
        return json.dumps(self.search, ensure_ascii=False)[1:-1]

    def search_q(self) -> Q:
        """The details search alone: details::text ILIKE '%...%'."""
        q = Q()
        if self.search:
            # details::text ILIKE '%...%', Django escaping % _ and \ in the text. The
            # text is looked for as the JSON text spells it (a quote as \", a newline as \n).
            q &= Q(IContains(Cast("details", TextField()), self.search_needle()))
        return q

    @property
    def active(self) -> bool:
        return self != EventFilters()


def _actors_matching(text: str) -> QuerySet[Any]:
    """People whose email address or name contains ``text`` (as a subquery)."""
    user_model = get_user_model()
    fields = [user_model.get_email_field_name()]
    if any(f.name == "full_name" for f in user_model._meta.get_fields()):
        fields.append("full_name")
    match = Q()
    for name in fields:
        match |= Q(**{f"{name}__icontains": text})
    return user_model.objects.filter(match).values("pk")


@dataclass(frozen=True)
class Cursor:
    """A position in the log, newest first: the (time, id) of an event. Written in links as
    ``<microseconds since 1970 UTC>-<id>``."""

    created_at: datetime.datetime
    id: int

    def __str__(self) -> str:
        micros = (self.created_at - _EPOCH) // datetime.timedelta(microseconds=1)
        return f"{micros}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor written in ``text``, or None when it is not one."""
        match = _CURSOR.fullmatch(text)
        if match is None:
            return None
        micros, pk = int(match[1]), int(match[2])
        if pk > _BIGINT_MAX or micros > _MAX_MICROS:
            return None
        return cls(_EPOCH + datetime.timedelta(microseconds=micros), pk)

    @classmethod
    def of(cls, event: AuditEvent) -> Cursor:
        return cls(event.created_at, event.pk)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_CURSOR = re.compile(r"([0-9]{1,17})-([0-9]{1,19})")
_BIGINT_MAX = 2**63 - 1
_MAX_MICROS = (datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC) - _EPOCH) // (
    datetime.timedelta(microseconds=1)
)


def _key_before(cursor: Cursor) -> RawSQL:
    # A row comparison, so PostgreSQL reads the index from the cursor on (an OR of the two
    # columns would not); the ORM cannot write one. The time alone again (implied by the
    # row comparison), so the months after the cursor's are pruned before the read. The
    # values are bound parameters, parsed from the page link by the form (tampered links:
    # tests/audit/test_viewer_filters.py).
    # nosemgrep: portal-raw-sql -- a row comparison the ORM cannot write; bound values
    return RawSQL(
        '("audit_auditevent"."created_at", "audit_auditevent"."id") < (%s, %s) '
        'AND "audit_auditevent"."created_at" <= %s',
        [cursor.created_at, cursor.id, cursor.created_at],
        BooleanField(),
    )


def _key_after(cursor: Cursor) -> RawSQL:
    # The same row comparison the other way (newer pages), for the same reasons.
    # nosemgrep: portal-raw-sql -- a row comparison the ORM cannot write; bound values
    return RawSQL(
        '("audit_auditevent"."created_at", "audit_auditevent"."id") > (%s, %s) '
        'AND "audit_auditevent"."created_at" >= %s',
        [cursor.created_at, cursor.id, cursor.created_at],
        BooleanField(),
    )


@contextmanager
def _read_along_the_key() -> Iterator[None]:
    """Within the block, PostgreSQL reads the log along an index ending in the key rather
    than collecting the agency's whole log in a bitmap and sorting it: bitmap scans are off
    for the block's statements (back to what they were after it, whatever happens).

    Why: row-level security adds ``agency_id = <the current agency>`` to every read, and the
    read names the agency too; the planner takes the two as independent and estimates a
    fiftieth of the agency's rows (with fifty agencies). For so few it prefers reading them
    all and sorting to a range read that stops after a page: at 10,000,000 events that is
    about 200,000 rows per page instead of a few hundred (bench/audit_viewer_bench.py)."""
    # A setting local to the transaction: the request's own (a savepoint's release keeps
    # it), or one made for the block.
    block = nullcontext() if connection.in_atomic_block else transaction.atomic()
    with block, connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- a planner setting for this transaction; constant text
        cursor.execute(
            "SELECT current_setting('enable_bitmapscan'), "
            "set_config('enable_bitmapscan', 'off', true)"
        )
        (before,) = cursor.fetchone()[:1]
        try:
            yield
        finally:
            # After a failed statement the transaction is rolled back, setting and all.
            with suppress(DatabaseError):
                # nosemgrep: portal-raw-sql -- restores the planner setting; bound parameter
                cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])


@dataclass(frozen=True)
class KeysetPage:
    events: list[AuditEvent]
    newer: Cursor | None  # the first event shown, when there are newer ones to show
    older: Cursor | None  # the last event shown, when there are older ones
    # A details search that stopped at its budget before filling the page: how far it read
    # (the next page's link carries on from there).
    searched_to: datetime.datetime | None = None


def keyset_page(
    agency_id: int,
    filters: EventFilters,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int | None = None,
) -> KeysetPage:
    """One page of the agency's events, newest first: the newest ones, those older than
    ``before``, or those newer than ``after``. No count and no offset: each page is one
    range read of an index ending in (created_at, id), and a page's links name the events
    at its edges, so events added meanwhile never shift or repeat a page."""
    size = size or PAGE_SIZE
    if filters.search:
        return _searched_page(agency_id, filters, before=before, after=after, size=size)
    events = AuditEvent.objects.filter(filters.as_q(), agency_id=agency_id)
    if after is not None:
        with _read_along_the_key():
            rows = list(events.filter(_key_after(after)).order_by("created_at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows,
            newer=Cursor.of(rows[0]) if rows and more_newer else None,
            older=Cursor.of(rows[-1]) if rows else None,
        )
    if before is not None:
        events = events.filter(_key_before(before))
    with _read_along_the_key():
        rows = list(events.order_by("-created_at", "-id")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    newer = None
    if before is not None:
        newer = Cursor.of(rows[0]) if rows else None
    return KeysetPage(rows, newer=newer, older=Cursor.of(rows[-1]) if more_older else None)


# A details search reads the (otherwise filtered) log in windows along the key and tests
# the text on each window's rows, so a page costs at most SEARCH_BUDGET rows whatever the
# text: a rare text on a long log gives a short page whose link carries the search on.
# (An index cannot narrow it: the log is read under row-level security, and PostgreSQL
# uses an index only for conditions whose operators are LEAKPROOF, which no containment
# or pattern operator is: pg_trgm's and full-text search's included.)
SEARCH_WINDOW = 2_000  # the largest window; the first is a few pages' worth, then grows
SEARCH_BUDGET = 10_000


def _read_window(
    window: QuerySet[AuditEvent], needle: str, size: int, *, newest_first: bool
) -> tuple[int, Cursor | None, list[Cursor]]:
    """Read one window of ``size`` events along the key, with their details, then look for
    the text in those details, in the database: (how many were read, the key of the last one
    read, the keys of those that match, in order). Only the matches and the last key leave
    the database. Each event's row is read once (no second look-up by id, which would search
    every month's partition), and the text is tested on the window's events only (after its
    LIMIT, whatever plan reads them)."""
    rows = window.values_list("created_at", "id", "details")[:size]
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        # Filters no event can match (an event chosen with a kind it is not of): an empty
        # window, not a server error.
        return 0, None, []
    # The pattern is a bound parameter, its wildcards escaped (hostile texts:
    # tests/audit/test_viewer_filters.py and test_viewer_search.py).
    pattern = f"%{connection.ops.prep_for_like_query(needle)}%"
    last_first = "ASC" if newest_first else "DESC"
    query = (
        f"WITH w AS MATERIALIZED ({sql}) "  # noqa: S608  # nosec B608  # Django's own SQL, with its params
        "SELECT created_at, id, 1 FROM w WHERE details::text ILIKE %s "
        f"UNION ALL (SELECT created_at, id, 2 FROM w ORDER BY created_at {last_first}, "
        f"id {last_first} LIMIT 1) "
        "UNION ALL SELECT NULL, count(*), 3 FROM w"
    )
    with connection.cursor() as cursor:
        with _read_along_the_key():
            # nosemgrep: portal-raw-sql -- Django's own SQL in a CTE (see above); bound values
            cursor.execute(query, [*params, pattern])
        rows = cursor.fetchall()
    count = next(int(pk) for _, pk, kind in rows if kind == 3)
    last = next((Cursor(at, pk) for at, pk, kind in rows if kind == 2), None)
    hits = sorted(
        (Cursor(at, pk) for at, pk, kind in rows if kind == 1),
        key=lambda c: (c.created_at, c.id),
        reverse=newest_first,
    )
    return count, last, hits


def _searched_page(
    agency_id: int,
    filters: EventFilters,
    *,
    before: Cursor | None,
    after: Cursor | None,
    size: int,
) -> KeysetPage:
    base = AuditEvent.objects.filter(
        dataclasses.replace(filters, search="").as_q(), agency_id=agency_id
    )
    needle = filters.search_needle()
    newest_first = after is None
    cursor = after if after is not None else before
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    matches: list[int] = []
    scanned = 0
    last_read: Cursor | None = None
    exhausted = full = False
    window_size = min(SEARCH_WINDOW, 4 * size)
    while not full and scanned < SEARCH_BUDGET:
        window = base
        if cursor is not None:
            window = window.filter(_key_before(cursor) if newest_first else _key_after(cursor))
        count, last, hits = _read_window(
            window.order_by(*order), needle, window_size, newest_first=newest_first
        )
        scanned += count
        last_read = last or last_read
        for found_key in hits:
            matches.append(found_key.id)
            if len(matches) > size:
                full = True
                break
        if count < window_size and not full:
            exhausted = True
            break
        cursor = last_read
        window_size = min(SEARCH_WINDOW, window_size * 4, SEARCH_BUDGET - scanned)
    shown_ids = matches[:size]
    found = AuditEvent.objects.filter(agency_id=agency_id).in_bulk(shown_ids)
    shown = [found[pk] for pk in shown_ids if pk in found]
    more = full or not exhausted
    # Past the last event shown, or, on a short page, past the last event read.
    edge = (Cursor.of(shown[-1]) if full else last_read) if more else None
    searched_to = last_read.created_at if more and not full and last_read else None
    if newest_first:
        newer = Cursor.of(shown[0]) if shown else (before if before is not None else None)
        return KeysetPage(
            shown,
            newer=newer if before is not None else None,
            older=edge,
            searched_to=searched_to,
        )
    shown.reverse()
    return KeysetPage(
        shown,
        newer=edge,
        older=Cursor.of(shown[-1]) if shown else after,
        searched_to=searched_to,
    )


# --- One event --------------------------------------------------------------------------------


def event_for_agency(agency_id: int, event_id: int) -> AuditEvent:
    """One of the agency's events; another agency's, or none, is a 404."""
    if not 0 < event_id <= _BIGINT_MAX:
        raise Http404
    event = AuditEvent.objects.filter(agency_id=agency_id, pk=event_id).first()
    if event is None:
        raise Http404
    return event


@dataclass(frozen=True)
class ChainPosition:
    sequence: int  # 1 for the chain's first event
    previous_id: int | None
    next_id: int | None


def chain_position(event: AuditEvent) -> ChainPosition:
    """Where the event sits on its agency's chain: its place (a count over the (agency, id)
    index, for this one page only) and its neighbours."""
    chain = AuditEvent.objects.filter(agency=event.agency_id)
    sequence = chain.filter(id__lte=event.pk).count()
    previous_id = chain.filter(id__lt=event.pk).order_by("-id").values_list("id", flat=True)
    next_id = chain.filter(id__gt=event.pk).order_by("id").values_list("id", flat=True)
    return ChainPosition(sequence, previous_id.first(), next_id.first())


def chain_for_export(agency_id: int, filters: EventFilters) -> QuerySet[AuditEvent]:
    """The agency's whole chain, oldest first, each event marked ``matches`` when the
    filters take it: an export numbers every event by its place on the chain and writes the
    ones that match."""
    chain = AuditEvent.objects.filter(agency_id=agency_id).order_by("id")
    if not filters.active:
        return chain.annotate(matches=Value(True, output_field=BooleanField()))
    return chain.annotate(matches=ExpressionWrapper(filters.as_q(), output_field=BooleanField()))


def events_for_export(agency_id: int, filters: EventFilters) -> QuerySet[AuditEvent]:
    """The agency's events that match, newest first (the CSV)."""
    return AuditEvent.objects.filter(filters.as_q(), agency_id=agency_id).order_by(
        "-created_at", "-id"
    )
