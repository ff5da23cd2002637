"""The agency admins' audit-log viewer and CSV export.

The permission check is applied where config/urls.py wires these views in (the audit app
knows nothing of roles); the rows come from audit.selectors, which reads one agency only.
"""

import csv
import datetime
from collections.abc import Iterator
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import registry, selectors
from audit.chain import set_chain_context
from audit.models import AuditEvent


class _Echo:
    """A file for csv.writer that hands each formatted row back instead of storing it."""

    def write(self, value: str) -> str:
        return value


@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    groups = registry.grouped_event_types()
    # Unknown filters show everything rather than failing.
    action = request.GET.get("action", "")
    if action not in {t.code for _, types in groups for t in types}:
        action = ""
    category_key = request.GET.get("category", "")
    in_category = [types for c, types in groups if c.key == category_key]
    if not in_category:
        category_key = ""
    events = selectors.events_for_agency(
        agency.pk,
        action=action or None,
        actions=[t.code for t in in_category[0]] if in_category else None,
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "page": page,
            "rows": selectors.describe(page.object_list),
            "action": action,
            "category": category_key,
            "groups": groups,
            "filter_query": urlencode(
                [(k, v) for k, v in (("category", category_key), ("action", action)) if v]
            ),
        },
    )


@require_safe
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    writer = csv.writer(_Echo())
    header = ["id", "time_utc", "action", "actor_id", "target", "ip", "request_id", "hash"]
    header += ["category", "description"]

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
    """Machine-readable columns first (codes and ids, as before), then the event's category
    and sentence for a human reader, described a batch at a time."""
    batch: list[AuditEvent] = []
    for event in selectors.events_for_agency(agency_id).iterator(chunk_size=2000):
        batch.append(event)
        if len(batch) == 2000:
            yield from _described_rows(batch)
            batch = []
    yield from _described_rows(batch)


def _described_rows(events: list[AuditEvent]) -> Iterator[list[object]]:
    for row in selectors.describe(events):
        event = row["event"]
        yield [
            event.pk,
            event.created_at.astimezone(datetime.UTC).isoformat(),
            event.action,
            event.actor_id or "",
            f"{event.target_type}:{event.target_id}" if event.target_type else "",
            event.ip or "",
            event.request_id,
            event.hash,
            row["category"],
            row["sentence"],
        ]
