"""What each event says: ids, numbers, states, times and links, never a requester's name,
address, email, phone nor the text of a request (an agency's system reads the rest through
the portal with its own access, where the portal's rules apply)."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse

from accounts.tenancy import agency_origin
from billing.models import Invoice
from documents.models import Document
from requests_portal.models import RecordsRequest


def _time(value: datetime.datetime | None) -> str | None:
    """UTC, ISO 8601 (a machine's reading: the zone is named by the offset)."""
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _request_url(records_request: RecordsRequest) -> str:
    path = reverse("staff:request_detail", kwargs={"number": records_request.number})
    return agency_origin(records_request.agency) + path


def request_data(records_request: RecordsRequest) -> dict[str, Any]:
    return {
        "object": "request",
        "id": records_request.pk,
        "number": records_request.number,
        "status": records_request.status,
        "channel": records_request.channel,
        "visibility": records_request.visibility,
        "received_at": _time(records_request.received_at),
        "due_date": records_request.due_date.isoformat() if records_request.due_date else None,
        "closed_at": _time(records_request.closed_at),
        "url": _request_url(records_request),
    }


def document_data(document: Document) -> dict[str, Any]:
    records_request = document.request
    return {
        "object": "document",
        "id": str(document.public_id),
        "request": {"id": records_request.pk, "number": records_request.number},
        "release": document.release,
        "released_at": _time(document.released_at),
        "url": _request_url(records_request),
    }


def invoice_data(invoice: Invoice) -> dict[str, Any]:
    records_request = invoice.request
    return {
        "object": "invoice",
        "id": invoice.pk,
        "number": invoice.number,
        "request": {"id": records_request.pk, "number": records_request.number},
        "status": invoice.status,
        "currency": invoice.currency,
        "total_cents": invoice.total_cents,
        "paid_cents": invoice.paid_cents,
        "paid_at": _time(invoice.paid_at),
        "url": _request_url(records_request),
    }


def envelope(
    *, event_id: str, event: str, agency_slug: str, at: datetime.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event,
        "created": _time(at),
        "agency": agency_slug,
        "data": data,
    }
