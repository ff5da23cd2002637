"""What open data shows of a public request and of a released document: plain dictionaries
built from a fixed list of columns, so a field added to a model never leaks by itself.

The requester's name, email, phone, address and account are not among them, nor messages,
notes, tasks, time, tracking links, private reasons or personal-data findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, QuerySet

from accounts.models import Agency
from documents import access as document_access
from documents.models import Document
from requests_portal import access as request_access
from requests_portal.models import RecordsRequest, RequestDepartment

REQUEST_COLUMNS = (
    "number",
    "title",
    "description",
    "status",
    "received_on",
    "due_date",
    "closed_at",
    "closure_reason",
    "request_type",
    "departments",
    "updated_at",
)
DOCUMENT_COLUMNS = (
    "id",
    "request_number",
    "filename",
    "content_type",
    "size",
    "released_at",
)

# Only these columns are read from the database, as plain rows (``.values``): nothing else
# is even loaded, and no model instance is built for a row (a page of 50 in a fraction of
# the time).
_REQUEST_VALUES = (
    "id",
    "year",
    "sequence",
    "title",
    "description",
    "status",
    "day_zero",
    "due_date",
    "closed_at",
    "updated_at",
)


def public_requests(agency: Agency) -> QuerySet:
    """The archive's public requests, newest number first, as rows of only the public
    columns (dictionaries: ``request_record`` makes each an open-data item)."""
    # Each request's department names come in the same query (one round trip fewer per page).
    names = (
        RequestDepartment.objects.filter(agency=agency, request=OuterRef("pk"))
        .order_by("-is_lead", "department__name")
        .values("department__name")
    )
    return (
        request_access.public_requests(agency)
        .order_by("-year", "-sequence")
        .values(
            *_REQUEST_VALUES,
            department_names=ArraySubquery(names),
            closure_reason_name=F("closure_reason__name"),
            request_type_name=F("request_type__name"),
        )
    )


def public_documents(agency: Agency) -> QuerySet[Document]:
    return (
        document_access.public_documents(agency)
        .select_related("request")
        .only(
            "id",
            "public_id",
            "filename",
            "content_type",
            "size",
            "released_at",
            "request__year",
            "request__sequence",
        )
        .order_by("-released_at", "-id")
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def request_record(row: dict[str, Any]) -> dict[str, Any]:
    """The open-data item of a row of ``public_requests``."""
    return {
        "number": RecordsRequest.number_of(row["year"], row["sequence"]),
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "received_on": _iso(row["day_zero"]),
        "due_date": _iso(row["due_date"]),
        "closed_at": _iso(row["closed_at"]),
        "closure_reason": row["closure_reason_name"] or "",
        "request_type": row["request_type_name"] or "",
        "departments": row["department_names"],
        "updated_at": _iso(row["updated_at"]),
    }


def request_records(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [request_record(row) for row in rows]


def document_record(d: Document) -> dict[str, Any]:
    return {
        "id": str(d.public_id),
        "request_number": d.request.number,
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "released_at": _iso(d.released_at),
    }
