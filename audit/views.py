"""The agency admins' audit-log viewer: the filtered list, a page at a time, and one event.

The permission check is applied where config/urls.py wires these views in (the audit app
knows nothing of roles); the rows come from audit.selectors, which reads one agency only.
Times typed in the filter are the agency's: TenantContextMiddleware has activated its zone
(accounts.local_time.agency_zone) for the request.
"""

import json
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit import selectors
from audit.forms import EventFilterForm


def filter_form(request: HttpRequest) -> EventFilterForm:
    """The filter of the query string, checked (shared by the list and the exports)."""
    form = EventFilterForm(request.GET, zone=timezone.get_current_timezone())
    form.is_valid()
    return form


@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    form = filter_form(request)
    page = selectors.keyset_page(
        agency.pk, form.filters(), before=form.cursor("before"), after=form.cursor("after")
    )
    params = form.filter_params()
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "groups": form.groups,
            "action": dict(params).get("action", ""),
            "category": dict(params).get("category", ""),
            "rows": selectors.describe(page.events),
            "filtered": bool(params),
            "filter_query": urlencode(params),
            "newer_query": urlencode([*params, ("after", str(page.newer))]) if page.newer else "",
            "older_query": urlencode([*params, ("before", str(page.older))]) if page.older else "",
            "searched_to": page.searched_to,
            # An event's page is "<list>/<id>/" (config/urls.py): one reverse() per page, not
            # per row (each costs a few tenths of a millisecond).
            "event_url_prefix": reverse("staff:audit_log"),
            "paged": form.cursor("before") is not None or form.cursor("after") is not None,
        },
    )


@require_safe
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    event = selectors.event_for_agency(agency.pk, event_id)
    [row] = selectors.describe([event])
    return render(
        request,
        "audit/event_detail.html",
        {
            "row": row,
            "event": event,
            "position": selectors.chain_position(event),
            "details_json": json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False),
        },
    )
