"""Paging a list of requests by key (their number), newest first, instead of by offset.

The archive lists every public request of an agency. A page number is an OFFSET: page 800
reads and throws away the 19,975 requests before it, and "page N of M" needs an exact count
of the whole archive on every view. Both grow with the archive. A page by key reads only its
own rows through the index on (agency, year, sequence): ``?after=26-142`` is the page of
requests numbered below 26-142, ``?before=26-142`` the page just above it, so the last page
costs what the first does and a request published meanwhile never shifts a page.

The count beside the list is capped (``count_capped``): "more than 1,000 requests" is as
useful to a reader as the exact number, and counting stops there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from requests_portal.access import NUMBER


def parse_number(raw: str | None) -> tuple[int, int] | None:
    """(year, sequence) of a request number like 26-142, or None for anything else: a
    malformed key shows the first page, as a missing one does."""
    match = NUMBER.fullmatch(raw or "")
    if match is None:
        return None
    return 2000 + int(match.group(1)), int(match.group(2))


# A row comparison, (year, sequence) < (26, 142): PostgreSQL starts the index scan at the key.
# The same test spelled year < 26 OR (year = 26 AND sequence < 142) is only a filter: the
# scan starts at the newest request and reads every row down to the key (10,845 rows for a
# key in the middle of a 20,000-request archive, 171 ms; now the page's own rows).
def older_than(queryset: QuerySet, key: tuple[int, int]) -> QuerySet:
    return queryset.filter(TupleLessThan(Tuple(F("year"), F("sequence")), key))


def newer_than(queryset: QuerySet, key: tuple[int, int]) -> QuerySet:
    return queryset.filter(TupleGreaterThan(Tuple(F("year"), F("sequence")), key))


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    has_previous: bool
    has_next: bool

    @property
    def previous_key(self) -> str:
        return self.rows[0].number if self.has_previous and self.rows else ""

    @property
    def next_key(self) -> str:
        return self.rows[-1].number if self.has_next and self.rows else ""


def keyset_page(
    queryset: QuerySet, *, after: tuple[int, int] | None, before: tuple[int, int] | None, size: int
) -> KeysetPage:
    """One page of ``queryset`` (requests, any filter) newest number first: after a key, just
    before one, or the first page. One query of at most ``size`` + 1 rows."""
    if before is not None:
        rows = list(newer_than(queryset, before).order_by("year", "sequence")[: size + 1])
        if rows:
            # The key itself (or what is older than it) is on the next page.
            return KeysetPage(rows=rows[:size][::-1], has_previous=len(rows) > size, has_next=True)
        after = None  # nothing newer than that key: the first page
    listed = queryset.order_by("-year", "-sequence")
    if after is not None:
        listed = older_than(listed, after)
    rows = list(listed[: size + 1])
    return KeysetPage(rows=rows[:size], has_previous=after is not None, has_next=len(rows) > size)


def count_capped(queryset: QuerySet, cap: int) -> int:
    """How many rows ``queryset`` has, counting no further than ``cap`` + 1. It selects a
    column of the listing index (Django would otherwise select the id), so the count can be
    an index-only scan."""
    return queryset.order_by().values("sequence")[: cap + 1].count()
