"""The agency admins' audit-log viewer and CSV export.

The permission check is applied where config/urls.py wires these views in (the audit app
knows nothing of roles); the rows come from audit.selectors, which reads one agency only.
"""

import csv
import datetime
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import registry, selectors
from audit.chain import set_chain_context


class _Echo:
    """A file for csv.writer that hands each formatted row back instead of storing it."""

    def write(self, value: str) -> str:
        return value


@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    action = request.GET.get("action", "")
    known = {event_type.code for event_type in registry.all_event_types()}
    if action not in known:
        action = ""  # an unknown filter shows everything rather than failing
    events = selectors.events_for_agency(agency.pk, action=action or None)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "page": page,
            "rows": selectors.describe(page.object_list),
            "action": action,
            "event_types": registry.all_event_types(),
        },
    )


@require_safe
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    writer = csv.writer(_Echo())
    header = ["id", "time_utc", "action", "actor_id", "target", "ip", "request_id", "hash"]

    def rows() -> Iterator[str]:
        yield writer.writerow(header)
        # Streaming runs after the request's transaction has ended, so the generator opens
        # its own, pointed at this agency's rows only.
        with transaction.atomic():
            set_chain_context(agency.pk)
            for row in _event_rows(agency.pk):
                yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{agency.slug}.csv"'
    return response


def _event_rows(agency_id: int) -> Iterator[list[object]]:
    for event in selectors.events_for_agency(agency_id).iterator(chunk_size=2000):
        yield [
            event.pk,
            event.created_at.astimezone(datetime.UTC).isoformat(),
            event.action,
            event.actor_id or "",
            f"{event.target_type}:{event.target_id}" if event.target_type else "",
            event.ip or "",
            event.request_id,
            event.hash,
        ]
