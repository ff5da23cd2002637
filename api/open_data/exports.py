"""Bulk exports, streamed: the whole archive as CSV or JSON without holding it in memory.

The body is written after the view has returned, outside the request's transaction, so each
chunk is read in its own ``agency_context`` (the agency's row-level-security context), keyed
on the last row of the chunk before (no offset, no long-held cursor).

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are written with a leading apostrophe."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import Q
from django.http import StreamingHttpResponse

from accounts.models import Agency
from accounts.tenancy import agency_context
from api.open_data import paging, records
from requests_portal import keyset

DATASETS = ("requests", "documents")
FORMATS = ("csv", "json")
CHUNK = 2000


class _Line:
    """What csv.writer writes to: hands the line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _request_chunks(agency: Agency) -> Iterator[list[dict]]:
    after: tuple[int, int] | None = None
    while True:
        with agency_context(agency):
            listed = records.public_requests(agency)
            if after is not None:
                # A row comparison: each chunk starts at its key in the index.
                listed = keyset.older_than(listed, after)
            rows = list(listed[:CHUNK])
            if not rows:
                return
            chunk = records.request_records(rows)
        after = (rows[-1]["year"], rows[-1]["sequence"])
        yield chunk


def _document_chunks(agency: Agency) -> Iterator[list[dict]]:
    after = None
    while True:
        with agency_context(agency):
            listed = records.public_documents(agency)
            if after is not None:
                listed = listed.filter(
                    Q(released_at__lt=after[0]) | Q(released_at=after[0], id__lt=after[1])
                )
            rows = list(listed[:CHUNK])
            if not rows:
                return
            chunk = [records.document_record(d) for d in rows]
        after = (rows[-1].released_at, rows[-1].pk)
        yield chunk


def _safe_cell(value) -> str:
    if isinstance(value, list):
        value = "; ".join(value)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(columns: tuple[str, ...], chunks: Iterator[list[dict]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(columns)
    for chunk in chunks:
        for item in chunk:
            yield writer.writerow([_safe_cell(item[c]) for c in columns])


def _json(chunks: Iterator[list[dict]]) -> Iterator[str]:
    yield "["
    first = True
    for chunk in chunks:
        for item in chunk:
            yield ("" if first else ",") + json.dumps(item, ensure_ascii=False)
            first = False
    yield "]"


def streamed(agency: Agency, dataset: str, fmt: str) -> StreamingHttpResponse:
    if dataset == "requests":
        columns, chunks = records.REQUEST_COLUMNS, _request_chunks(agency)
    else:
        columns, chunks = records.DOCUMENT_COLUMNS, _document_chunks(agency)
    if fmt == "csv":
        body, content_type = _csv(columns, chunks), "text/csv; charset=utf-8"
    else:
        body, content_type = _json(chunks), "application/json"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{agency.slug}-{dataset}.{fmt}"'
    paging.public_cache(response)
    return response
