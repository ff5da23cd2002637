"""The audit log's downloads: CSV for people, JSON Lines for auditors (with the chain
fields, checked offline by ``python -m audit.verify_export``). Both take the viewer's
filters, stream (the log can be millions of rows), and are themselves recorded."""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit import exporting, selectors, services
from audit.chain import set_chain_context
from audit.models import AuditEvent
from audit.seals import format as seal_format
from audit.views import event_list, filter_form

_BATCH = 2000


class _Echo:
    """A file for csv.writer that hands each formatted row back instead of storing it."""

    def write(self, value: str) -> str:
        return value


@require_safe
def event_export(request: HttpRequest) -> StreamingHttpResponse | HttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    form = filter_form(request)
    if form.errors:
        return _the_filters_errors(request)
    filters = form.filters()
    services.log_exported(
        agency_id=agency.pk,
        export_format="csv",
        filters=form.described_filters(),
        http_request=request,
    )
    writer = csv.writer(_Echo())
    agency_id = agency.pk

    def rows() -> Iterator[str]:
        yield writer.writerow(exporting.CSV_HEADER)
        # Streaming runs after the request's transaction has ended, so the generator opens
        # its own, pointed at this agency's rows only.
        with transaction.atomic():
            set_chain_context(agency_id)
            batch: list[AuditEvent] = []
            for event in selectors.events_for_export(agency_id, filters).iterator(_BATCH):
                batch.append(event)
                if len(batch) == _BATCH:
                    yield from _csv_rows(writer, batch)
                    batch = []
            yield from _csv_rows(writer, batch)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{agency.slug}.csv"'
    return response


def _the_filters_errors(request: HttpRequest) -> HttpResponse:
    """A download asked with a filter that does not hold exports nothing: the answer is the
    list with the same filter and its errors."""
    return event_list(request)


def _csv_rows(writer: Any, events: list[AuditEvent]) -> Iterator[str]:
    for row in selectors.describe(events):
        yield writer.writerow(exporting.csv_row(row))


@require_safe
def event_export_jsonl(request: HttpRequest) -> StreamingHttpResponse | HttpResponse:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    form = filter_form(request)
    if form.errors:
        return _the_filters_errors(request)
    filters = form.filters()
    described = form.described_filters()
    services.log_exported(
        agency_id=agency.pk, export_format="jsonl", filters=described, http_request=request
    )
    agency_id, slug, now = agency.pk, agency.slug, timezone.now()

    def lines() -> Iterator[str]:
        with transaction.atomic():
            set_chain_context(agency_id)
            chain = selectors.chain_for_export(agency_id, filters).iterator(_BATCH)
            yield from exporting.jsonl_lines(
                agency_id=agency_id,
                agency_slug=slug,
                filters=described,
                chain=chain,
                exported_at=now,
            )

    response = StreamingHttpResponse(lines(), content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{slug}.jsonl"'
    return response


# --- What an auditor needs to check an export without the portal -----------------------------

_VERIFIER = Path(__file__).resolve().parent / "verify_export.py"


@require_safe
def seal_public_key(request: HttpRequest) -> HttpResponse:
    """The platform's published seal key (PEM), the one the JSON Lines' seals verify with.
    Public by nature; served to the agency's admins beside their export."""
    if getattr(request, "agency", None) is None:
        raise Http404
    try:
        key = seal_format.public_key()
    except RuntimeError:
        raise Http404 from None  # no signing key configured: nothing is sealed to check
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _attachment(pem, "audit-seal-public-key.pem", "application/x-pem-file")


@require_safe
def verifier_script(request: HttpRequest) -> HttpResponse:
    """The stand-alone verifier (standard library + ``cryptography``), the same file as
    ``python -m audit.verify_export``: the auditor runs it on their own machine."""
    if getattr(request, "agency", None) is None:
        raise Http404
    return _attachment(_VERIFIER.read_bytes(), "verify_export.py", "text/x-python")


def _attachment(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
