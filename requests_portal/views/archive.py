"""The public archive: every public request of the agency, filtered, or searched through
the public search index with highlighted snippets."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.models import Agency
from requests_portal import access, forms, keyset
from requests_portal.filters import archive_filters
from requests_portal.models import RecordsRequest, status_labels
from requests_portal.page_fragments import ArchiveRow, archive_form_html, archive_rows_html
from requests_portal.search import highlighted, newest_ranked, public_search, with_snippets
from requests_portal.views.common import agency_or_404, page_params

ARCHIVE_PAGE_SIZE = 25
SEARCH_COUNT_CAP = 1000


def _found_in_order(agency: Agency, ids: list[int], text: str) -> list[tuple[RecordsRequest, str]]:
    """The public requests of a page of search results (request ids, in order), each with
    its raw snippet (ts_headline's text, not yet escaped)."""
    # Annotated rows: each carries the ``snippet`` the model does not declare.
    found: dict[int, Any] = with_snippets(
        access.public_requests(agency).filter(pk__in=ids), text
    ).in_bulk()
    return [(found[pk], found[pk].snippet) for pk in ids if pk in found]


def public_page_rows(agency: Agency, ids: list[int], text: str) -> list[dict]:
    """The requests of a page of search results (request ids, in order), with snippets."""
    return [
        {"r": r, "snippet": highlighted(snippet)}
        for r, snippet in _found_in_order(agency, ids, text)
    ]


def _shown(r: RecordsRequest, snippet: str | None, labels: dict[str, str]) -> ArchiveRow:
    return ArchiveRow(
        r.number, r.title, r.status, labels.get(r.status, r.status), r.received_at, snippet
    )


@require_safe
def archive(request: HttpRequest) -> HttpResponse:
    agency = agency_or_404(request)
    departments = access.public_departments(agency)
    form = forms.ArchiveFilterForm(request.GET or None, departments=departments)
    data = form.cleaned_data if form.is_valid() else {}
    query = (data.get("q") or "").strip()
    if query:
        # Search the public index (its GIN index is usable), then load the page. The newest
        # SEARCH_COUNT_CAP + 1 matches, ranked (search.newest_ranked): one query whose cost
        # does not grow with the archive; "more than 1,000" past the cap.
        entries = archive_filters(public_search(agency, query), data, prefix="request__")
        ids = newest_ranked(agency, entries, SEARCH_COUNT_CAP)
        count, capped = len(ids), len(ids) > SEARCH_COUNT_CAP
        page = Paginator(ids[:SEARCH_COUNT_CAP], ARCHIVE_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        found = _found_in_order(agency, list(page.object_list), query)
        labels = status_labels()
        rows = [_shown(r, snippet, labels) for r, snippet in found]
        pager: dict[str, object] = {"page": page, "params": page_params(request)}
    else:
        # By key, newest first, with a capped count: what one view costs does not grow with
        # the archive (requests_portal.keyset; the partial index request_public_listing).
        listed = archive_filters(access.public_requests(agency), data)
        listing = keyset.keyset_page(
            listed,
            after=keyset.parse_number(request.GET.get("after")),
            before=keyset.parse_number(request.GET.get("before")),
            size=ARCHIVE_PAGE_SIZE,
        )
        labels = status_labels()
        rows = [_shown(r, None, labels) for r in listing.rows]
        count = keyset.count_capped(listed, SEARCH_COUNT_CAP)
        capped = count > SEARCH_COUNT_CAP
        pager = {"keyset": listing, "params": _params_without(request, "page", "after", "before")}
    return render(
        request,
        "requests_portal/archive.html",
        {
            "form": form,
            # Rendered once per set of values (requests_portal.page_fragments).
            "form_html": archive_form_html(
                agency.pk, form, list(departments.values_list("pk", "name"))
            ),
            "rows": rows,
            "rows_html": archive_rows_html(agency.pk, rows),
            "query": query,
            "count": count,
            "capped": capped,
            "cap": SEARCH_COUNT_CAP,
            **pager,
        },
    )


def _params_without(request: HttpRequest, *names: str) -> str:
    """The query string without the paging keys, for the links to the next pages."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
