"""What open data shows of a public request and of a released document: plain dictionaries
built from a fixed list of columns, so a field added to a model never leaks by itself.

The requester's name, email, phone, address and account are not among them, nor messages,
notes, tasks, time, tracking links, private reasons or personal-data findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet

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

# Only these columns are read from the database (``.only``): nothing else is even loaded.
_REQUEST_FIELDS = (
    "id",
    "agency_id",
    "year",
    "sequence",
    "title",
    "description",
    "status",
    "day_zero",
    "due_date",
    "closed_at",
    "closure_reason__name",
    "request_type__name",
    "updated_at",
)


def public_requests(agency: Agency) -> QuerySet[RecordsRequest]:
    """The archive's public requests, newest number first, with only the public columns."""
    # Each request's department names come in the same query (one round trip fewer per page).
    names = (
        RequestDepartment.objects.filter(agency=agency, request=OuterRef("pk"))
        .order_by("-is_lead", "department__name")
        .values("department__name")
    )
    return (
        request_access.public_requests(agency)
        .select_related("closure_reason", "request_type")
        .only(*_REQUEST_FIELDS)
        .annotate(department_names=ArraySubquery(names))
        .order_by("-year", "-sequence")
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


def department_names(agency: Agency, request_ids: Iterable[int]) -> dict[int, list[str]]:
    """Request id → the names of its departments (lead first): public, as on the archive."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        RequestDepartment.objects.filter(agency=agency, request_id__in=list(request_ids))
        .order_by("request_id", "-is_lead", "department__name")
        .values_list("request_id", "department__name")
    )
    for request_id, name in rows:
        names[request_id].append(name)
    return names


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def request_record(r: RecordsRequest, departments: list[str]) -> dict[str, Any]:
    return {
        "number": r.number,
        "title": r.title,
        "description": r.description,
        "status": r.status,
        "received_on": _iso(r.day_zero),
        "due_date": _iso(r.due_date),
        "closed_at": _iso(r.closed_at),
        "closure_reason": r.closure_reason.name if r.closure_reason_id else "",
        "request_type": r.request_type.name if r.request_type_id else "",
        "departments": departments,
        "updated_at": _iso(r.updated_at),
    }


def request_records(agency: Agency, rows: list[RecordsRequest]) -> list[dict[str, Any]]:
    """Rows of ``public_requests`` carry their department names; others are looked up."""
    missing = [r.pk for r in rows if not hasattr(r, "department_names")]
    names = department_names(agency, missing) if missing else {}
    return [
        request_record(
            r, r.department_names if hasattr(r, "department_names") else names.get(r.pk, [])
        )
        for r in rows
    ]


def document_record(d: Document) -> dict[str, Any]:
    return {
        "id": str(d.public_id),
        "request_number": d.request.number,
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "released_at": _iso(d.released_at),
    }
