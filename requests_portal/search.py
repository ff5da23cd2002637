"""Full-text search over requests (PostgreSQL websearch syntax, ranked, highlighted)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, F, OuterRef, QuerySet, Value
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThanOrEqual
from django.db.models.functions import Replace
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from requests_portal.models import PublicSearchEntry, RecordsRequest, StaffSearchTerm

# ts_headline marks matches with these private-use characters; the snippet is escaped
# first and only then are they turned into <mark> tags, so request text is never HTML.
_START, _STOP = "\ue000", "\ue001"
# ts_headline drops anything that looks like an HTML tag; hand it the angle brackets in
# disguise so "<b>" in a description comes back (escaped) as written.
_LT, _GT = "\ue002", "\ue003"
# A lexeme in querytree()'s text: quoted, a quote inside doubled.
_LEXEME = re.compile(r"'((?:[^']|'')*)'")
# The widest window of newest requests newest_ranked_requests reads for a common word.
_WINDOW_MAX = 256_000
# newest_ranked reads up to this many times cap + 1 matches in any order before it walks
# the archive newest first: a medium word's matches, all of them, cost less than the walk.
_FEW_FACTOR = 4
# A public search found common (its SQL, with the agency and cap) -> the number, (year,
# sequence), its newest matches began at: where newest_ranked's walk starts next time. Per
# process; a hint, never an answer (see newest_ranked).
_walk_starts: dict[tuple, tuple[int, int]] = {}
_WALK_STARTS_MAX = 4096


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Requests matching ``text``, best first: the staff queue's search. It runs on the
    request table itself, under row-level security (see PublicSearchEntry for why the
    public archive searches elsewhere)."""
    for has_words in staff_candidates(text):
        queryset = queryset.filter(has_words)
    return _matching(queryset, text).order_by("-rank", "-year", "-sequence")


def _matching(queryset: QuerySet, text: str) -> QuerySet:
    """The rows of ``queryset`` matching ``text`` (the full query, @@), with their rank."""
    query = SearchQuery(text, search_type="websearch", config="english")
    return queryset.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))


def staff_candidates(text: str) -> list[Exists]:
    """Conditions a request must meet to match ``text``, answered by the staff word index
    (StaffSearchTerm) with text equality only, so its btree serves them under row-level
    security; none when the query has no word the index can use (only negations or stop
    words). A superset: the caller still applies the full query (@@) to the rows left.

    When the query needs every one of its words (no OR), one condition per word, each a
    probe of the index for (agency, word, request): a rare word's few rows lead the search,
    and a walk over the newest requests (newest_ranked_requests) pays one probe per row, whatever
    the agency's size. Otherwise one condition: any of the words."""
    return [
        Exists(StaffSearchTerm.objects.filter(request=OuterRef("pk"), lexeme__in=group))
        for group in _word_groups(_query_tree(text))
    ]


def _word_groups(tree: str) -> list[list[str]]:
    """The index words of a query (its ``_query_tree``), as PostgreSQL stems them, in groups
    a match has at least one word of each: one group per word when all are needed, one
    group when any will do."""
    words = sorted({w.replace("''", "'") for w in _LEXEME.findall(tree)})
    if not words:
        return []
    return [words] if "|" in tree else [[word] for word in words]


def _query_tree(text: str) -> str:
    """What of ``text`` an index can use, as PostgreSQL's querytree() writes it: '' when
    nothing can match (stop words only), 'T' when anything may (negations only)."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- the query's index words, as PostgreSQL stems them; bound
        cursor.execute("SELECT querytree(websearch_to_tsquery('english', %s))", [text])
        (tree,) = cursor.fetchone()
    return tree or ""


def _surely_few(agency, groups: list[list[str]], cap: int) -> bool:
    """Whether a query with these word groups has at most ``cap`` matches for sure: a needed
    word (or the words of an OR) in at most cap of the agency's requests, counted on the
    word index alone."""
    return any(
        StaffSearchTerm.objects.filter(agency=agency, lexeme__in=group)[: cap + 1].count() <= cap
        for group in groups
    )


def highlighted(snippet: str) -> SafeString:
    # Safe: every character of the request's text is escaped before the two markers (which
    # escape() leaves alone) become <mark> tags. tests/requests_portal/test_archive_search.py.
    escaped = escape(snippet).replace(_LT, "&lt;").replace(_GT, "&gt;")
    # nosemgrep: portal-mark-safe -- every character was escaped before the markers (above)
    return mark_safe(escaped.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308  # nosec B308, B703  # every character escaped above


def public_search(agency, text: str) -> QuerySet:
    """The agency's public requests matching ``text``, best first, searched in the public
    index (PublicSearchEntry) where the GIN index can be used. Returns entries; the caller
    filters them (``request__...``) and loads the page's requests with ``with_snippets``."""
    query = SearchQuery(text, search_type="websearch", config="english")
    # The agency lexeme makes the index itself narrow the search to this agency; the
    # agency_id filter keeps it correct on its own.
    this_agency = SearchQuery(f"agency{int(agency.pk)}", search_type="raw", config="simple")
    # The agency test is written so no index can serve it (agency_id + 0): a plain
    # agency_id = N made PostgreSQL also read the agency's whole btree entry list into a
    # bitmap to AND with the GIN's, most of the time of a rare word's search.
    return (
        PublicSearchEntry.objects.alias(entry_agency=F("agency_id") + 0)
        .filter(entry_agency=agency.pk, search_vector=query & this_agency)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-year", "-sequence")
    )


def newest_ranked(agency, entries: QuerySet, cap: int) -> list[int]:
    """The request ids of the newest ``cap`` + 1 of ``entries`` (a ``public_search``, maybe
    filtered), best first: a caller showing at most ``cap`` results says "more than cap"
    when it gets more.

    Ranking every match of a common word costs in proportion to the archive (every match's
    vector read and ranked); ranking at most a few times cap costs the same at any size.
    First the GIN index finds up to _FEW_FACTOR x (cap + 1) matches in any order: a rare or
    medium word has fewer, and they are all of its matches, the newest cap + 1 picked here.
    A common word has more: then its newest cap + 1 are found by walking the agency's
    entries newest first (index public_search_newest) until that many match, which reads
    about cap + 1 entries divided by the word's share of them: few for a common word, too
    many for a medium one (hence the first step). PostgreSQL would not choose that walk by
    itself: the agency lexeme and the agency filter say the same thing, so it multiplies
    their selectivities, expects a few hundred matches and ranks all of them; hence bitmap
    scans are off for that one query.

    A search found common once is walked first the next time, from where its newest
    matches began then (``_walk_starts``), which spares the first step (1,000,000 requests:
    22 of a common word's 30 ms). Only where to start is remembered, never an answer: the
    walk reads every entry from the newest down to that number, so when it finds cap + 1
    matches they are the newest cap + 1; when it finds fewer, the search runs as above."""
    fields = ("request_id", "rank", "year", "sequence")
    memo = _memo_key(agency, entries, cap)
    start = _walk_starts.get(memo) if memo else None
    if start is not None:
        # A row comparison: the walk's index scan ends at the start (as keyset.older_than).
        from_start = TupleGreaterThanOrEqual(Tuple(F("year"), F("sequence")), start)
        found = _walk(agency, entries.filter(from_start), cap)
        if len(found) > cap:
            return _best_first(found)
    few_max = _FEW_FACTOR * (cap + 1)
    found = list(entries.order_by().values_list(*fields)[: few_max + 1])
    if len(found) <= few_max:
        if memo:
            _walk_starts.pop(memo, None)
        found.sort(key=lambda row: (-row[2], -row[3]))
        return _best_first(found[: cap + 1])
    found = _walk(agency, entries, cap)
    if len(found) > cap and memo:
        if len(_walk_starts) >= _WALK_STARTS_MAX:
            _walk_starts.clear()  # a bound on memory; the next searches fill it again
        _walk_starts[memo] = min((row[2], row[3]) for row in found)
    return _best_first(found)


def _memo_key(agency, entries: QuerySet, cap: int) -> tuple | None:
    """The search's identity for _walk_starts: its agency, cap and SQL with parameters (none
    for a query that can match nothing, which has no SQL)."""
    try:
        key = (agency.pk, cap, *entries.query.sql_with_params())
        hash(key)
    except (EmptyResultSet, TypeError):  # TypeError: a parameter that cannot be a key
        return None
    return key


def _walk(agency, entries: QuerySet, cap: int) -> list[tuple]:
    """The newest cap + 1 of ``entries``, walked newest first (public_search_newest)."""
    with _index_walks_only():
        # agency_id = N here: the walk's index condition (public_search_newest).
        newest = entries.filter(agency=agency).order_by("-year", "-sequence")
        return list(newest.values_list("request_id", "rank", "year", "sequence")[: cap + 1])


def newest_ranked_requests(agency, requests: QuerySet, text: str, cap: int) -> list[int]:
    """The ids of the newest ``cap`` + 1 of ``requests`` (some of ``agency``'s, maybe
    filtered) that match ``text``, best first: the archive's rule (``newest_ranked``) for
    the staff search: rank only the newest cap + 1, a cost that does not grow with the
    matches.

    When the word index shows ``text`` has at most cap matches, a rare or medium word, they
    are all found from its index rows (``search``). Otherwise the newest: matches among the
    agency's newest requests (by id, the order they were filed), in a window widened until
    it holds cap + 1 of them; the word index tells, without reading a request, how wide the
    window must be at least. PostgreSQL would not walk newest first by itself: it expects
    few matches and reads every open request of the agency instead (200,000 requests:
    84 ms). The window's own query joins the word index only for a word in under an eighth
    of the window, bounded to it (then only that word's requests are read); otherwise it
    reads the window's rows, where a join would read all of the agency's index rows of a
    word (1,000,000 requests: 22 -> 8-15 ms)."""
    fields = ("pk", "rank", "year", "sequence")
    tree = _query_tree(text)
    if tree == "":
        return []  # stop words only: nothing can match
    groups = _word_groups(tree)
    if _surely_few(agency, groups, cap):
        return _best_first(list(search(requests, text).order_by().values_list(*fields)[: cap + 1]))
    window = 4 * (cap + 1)
    newest = RecordsRequest.objects.filter(agency=agency).order_by("-pk")
    while window <= _WINDOW_MAX:
        # The window as a range of ids (its oldest id found first, on the index alone): a
        # range the planner estimates well, where a subquery of ids got rescanned per row.
        oldest = list(newest.values_list("pk", flat=True)[window - 1 : window])
        if not oldest:
            break  # the window holds every request of the agency
        in_window = requests.filter(pk__gte=oldest[0])
        # The word index tells, without reading a request, whether the window can hold
        # cap + 1 matches at all (its rarest word group's rows in the window).
        rarest, found_count = _rarest_in_window(agency, groups, oldest[0], window // 2)
        if found_count > cap:
            if found_count < window // 8:
                # A word in under an eighth of the window: read only its requests, not the
                # window's (PostgreSQL then walks its index rows; with more, it reads the
                # window anyway and the join only adds to the cost).
                in_window = in_window.filter(
                    pk__in=StaffSearchTerm.objects.filter(
                        agency=agency, lexeme__in=rarest, request_id__gte=oldest[0]
                    ).values("request_id")
                )
            ordered = _matching(in_window, text).order_by("-year", "-sequence")
            found = list(ordered.values_list(*fields)[: cap + 1])
            if len(found) > cap:
                return _best_first(found)
            found_count = len(found)
        if not found_count:
            break  # matches this thin (a narrow filter): the planner's own way is better
        # Wide enough, by the share that matched, to hold cap + 1 with a margin.
        window = max(2 * window, window * 5 * (cap + 1) // (4 * found_count))
    return newest_matches_ranked(search(requests, text), cap)


def _rarest_in_window(
    agency, groups: list[list[str]], oldest: int, limit: int
) -> tuple[list[str], int]:
    """The word group with the fewest rows in the word index from request ``oldest`` on,
    and that number, counted up to ``limit``: at most that many requests of the window can
    match (fewer when a filter leaves some out). No group and ``limit`` for a query of
    negations only, about which the index cannot say."""
    counted = [
        (
            StaffSearchTerm.objects.filter(agency=agency, lexeme__in=group, request_id__gte=oldest)[
                :limit
            ].count(),
            group,
        )
        for group in groups
    ]
    if not counted:
        return [], limit
    rows, group = min(counted)
    return group, rows


def newest_matches_ranked(matches: QuerySet, cap: int) -> list[int]:
    """The ids of the newest ``cap`` + 1 of ``matches``, best first, the planner's own way:
    for a set known to be small (a requester's own requests) or matches thinly spread over
    a very large agency."""
    fields = ("pk", "rank", "year", "sequence")
    return _best_first(list(matches.order_by("-year", "-sequence").values_list(*fields)[: cap + 1]))


def _best_first(rows: list[tuple]) -> list[int]:
    """(id, rank, year, sequence) rows, best rank first, then newest first."""
    rows.sort(key=lambda row: (-row[1], -row[2], -row[3]))
    return [row[0] for row in rows]


@contextmanager
def _index_walks_only() -> Iterator[None]:
    """Bitmap and sequential scans off until the end of the block, inside the current
    transaction only (the caller's request runs in one; ``set_config(..., true)`` is SET
    LOCAL): with bitmap scans alone off, the planner chose a parallel sequential scan of the
    whole index table for a common word (200,000 requests: 90-105 ms against 13 ms)."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- planner settings have no ORM form; constant text
        cursor.execute(
            "SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan')"
        )
        bitmap, seq = cursor.fetchone()
        # nosemgrep: portal-raw-sql -- transaction-local planner settings; constant text
        cursor.execute(
            "SELECT set_config('enable_bitmapscan', 'off', true), "
            "set_config('enable_seqscan', 'off', true)"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- restores the settings read above; bound parameters
            cursor.execute(
                "SELECT set_config('enable_bitmapscan', %s, true), "
                "set_config('enable_seqscan', %s, true)",
                [bitmap, seq],
            )


def with_snippets(requests: QuerySet, text: str) -> QuerySet:
    """Highlighted snippets for a page of requests (ts_headline is costly: a page only)."""
    query = SearchQuery(text, search_type="websearch", config="english")
    return requests.annotate(snippet=_headline(query))


def _headline(query):
    return SearchHeadline(
        Replace(Replace(F("description"), Value("<"), Value(_LT)), Value(">"), Value(_GT)),
        query,
        config="english",
        start_sel=_START,
        stop_sel=_STOP,
        max_words=35,
        min_words=15,
    )
