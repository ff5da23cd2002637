"""Full-text search over requests (PostgreSQL websearch syntax, ranked, highlighted)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, QuerySet, Value
from django.db.models.functions import Replace
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from requests_portal.models import PublicSearchEntry, StaffSearchTerm

# ts_headline marks matches with these private-use characters; the snippet is escaped
# first and only then are they turned into <mark> tags, so request text is never HTML.
_START, _STOP = "\ue000", "\ue001"
# ts_headline drops anything that looks like an HTML tag; hand it the angle brackets in
# disguise so "<b>" in a description comes back (escaped) as written.
_LT, _GT = "\ue002", "\ue003"
# A lexeme in querytree()'s text: quoted, a quote inside doubled.
_LEXEME = re.compile(r"'((?:[^']|'')*)'")


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Requests matching ``text``, best first: the staff queue's search. It runs on the
    request table itself, under row-level security (see PublicSearchEntry for why the
    public archive searches elsewhere)."""
    query = SearchQuery(text, search_type="websearch", config="english")
    candidates = staff_candidates(text)
    if candidates is not None:
        queryset = queryset.filter(pk__in=candidates)
    return (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-year", "-sequence")
    )


def staff_candidates(text: str) -> QuerySet | None:
    """The ids of the requests that can match ``text``, found in the staff word index
    (StaffSearchTerm) with text equality only, so the index serves it under row-level
    security; None when the query has no word the index can use (only negations or stop
    words). A superset: the caller still applies the full query (@@) to these rows.

    When the query needs every one of its words (no OR), a candidate has all of them;
    otherwise it has any of them."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- the query's index words, as PostgreSQL stems them; bound
        cursor.execute("SELECT querytree(websearch_to_tsquery('english', %s))", [text])
        (tree,) = cursor.fetchone()
    words = sorted({w.replace("''", "'") for w in _LEXEME.findall(tree or "")})
    if not words:
        return None
    terms = StaffSearchTerm.objects.filter(lexeme__in=words)
    if "|" in tree or len(words) == 1:
        return terms.values("request_id")
    return (
        terms.values("request_id")
        .annotate(found=Count("lexeme", distinct=True))
        .filter(found=len(words))
        .values("request_id")
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
    vector read and ranked); ranking at most cap + 1 costs the same at any size. First the
    GIN index finds up to cap + 1 matches in any order: a rare or medium word has fewer, and
    they are all of its matches. A common word has more: then its newest cap + 1 are found by
    walking the agency's entries newest first (index public_search_newest) until that many
    match. PostgreSQL would not choose that walk by itself: the agency lexeme and the agency
    filter say the same thing, so it multiplies their selectivities, expects a few hundred
    matches and ranks all of them; hence bitmap scans are off for that one query."""
    fields = ("request_id", "rank", "year", "sequence")
    found = list(entries.order_by().values_list(*fields)[: cap + 1])
    if len(found) > cap:
        with _without_bitmap_scans():
            # agency_id = N here: the walk's index condition (public_search_newest).
            newest = entries.filter(agency=agency).order_by("-year", "-sequence")
            newest = newest.values_list(*fields)
            found = list(newest[: cap + 1])
    return _best_first(found)


def newest_ranked_requests(matches: QuerySet, cap: int) -> list[int]:
    """The ids of the newest ``cap`` + 1 of ``matches`` (a ``search`` result, maybe
    filtered), best first: the staff search's rule, the archive's (``newest_ranked``):
    rank only the newest cap + 1, a cost that does not grow with the matches."""
    newest = matches.order_by("-year", "-sequence").values_list("pk", "rank", "year", "sequence")
    return _best_first(list(newest[: cap + 1]))


def _best_first(rows: list[tuple]) -> list[int]:
    """(id, rank, year, sequence) rows, best rank first, then newest first."""
    rows.sort(key=lambda row: (-row[1], -row[2], -row[3]))
    return [row[0] for row in rows]


@contextmanager
def _without_bitmap_scans() -> Iterator[None]:
    """Bitmap scans off until the end of the block, inside the current transaction only
    (the caller's request runs in one; ``set_config(..., true)`` is SET LOCAL)."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- a planner setting has no ORM form; constant text
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        (before,) = cursor.fetchone()
        # nosemgrep: portal-raw-sql -- a transaction-local planner setting; constant text
        cursor.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- restores the setting read above; bound parameter
            cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])


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
