"""Full-text search over requests (PostgreSQL websearch syntax, ranked, highlighted)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Replace
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# ts_headline marks matches with these private-use characters; the snippet is escaped
# first and only then are they turned into <mark> tags, so request text is never HTML.
_START, _STOP = "\ue000", "\ue001"
# ts_headline drops anything that looks like an HTML tag; hand it the angle brackets in
# disguise so "<b>" in a description comes back (escaped) as written.
_LT, _GT = "\ue002", "\ue003"


def search(queryset: QuerySet, text: str) -> QuerySet:
    query = SearchQuery(text, search_type="websearch", config="english")
    return (
        queryset.filter(search_vector=query)
        .annotate(
            rank=SearchRank(F("search_vector"), query),
            snippet=SearchHeadline(
                Replace(Replace(F("description"), Value("<"), Value(_LT)), Value(">"), Value(_GT)),
                query,
                config="english",
                start_sel=_START,
                stop_sel=_STOP,
                max_words=35,
                min_words=15,
            ),
        )
        .order_by("-rank", "-year", "-sequence")
    )


def highlighted(snippet: str) -> SafeString:
    # Safe: every character of the request's text is escaped before the two markers (which
    # escape() leaves alone) become <mark> tags. tests/requests_portal/test_search.py.
    escaped = escape(snippet).replace(_LT, "&lt;").replace(_GT, "&gt;")
    return mark_safe(escaped.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308
