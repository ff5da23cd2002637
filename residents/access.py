"""What the portal holds about one person, read agency by agency.

A resident's requests live in several agencies. Every agency's rows are read inside that
agency's row-level-security context (``accounts.tenancy.agency_context``), through the
apps' own access helpers where they exist: nothing here bypasses RLS, and a request of
another person never appears (the helpers filter on ``requester``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404

from accounts.models import Agency, Membership, User
from accounts.tenancy import agency_context
from audit import registry
from audit.models import AuditEvent
from billing import access as billing_access
from documents import access as document_access
from documents.models import Document, DocumentStatus, DocumentVersion
from requests_portal import access as request_access
from requests_portal.access import PublicView, Viewer
from requests_portal.models import RecordsRequest
from residents.models import DataExport, ExportStatus


def export_for(user: User, public_id: uuid.UUID) -> DataExport:
    """One of the person's own exports; anyone else's (or none) is a 404."""
    found = DataExport.objects.filter(user=user, public_id=public_id).first()
    if found is None or not user.is_authenticated:
        raise Http404
    return found


def exports_of(user: User) -> list[DataExport]:
    return list(DataExport.objects.filter(user=user).order_by("-created_at")[:5])


def exports_expired(now: Any) -> list[DataExport]:
    return list(
        DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now).order_by("pk")
    )


@dataclass
class FileToCopy:
    """A document version to copy into the zip, at ``path``."""

    path: str
    version: DocumentVersion


@dataclass
class AgencyPart:
    agency: Agency
    data: dict[str, Any] = field(default_factory=dict)
    files: list[FileToCopy] = field(default_factory=list)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _event(event: AuditEvent) -> dict[str, Any]:
    try:
        label = registry.get(event.action).label
    except LookupError:
        label = event.action
    return {"at": _when(event.created_at), "event": event.action, "summary": label}


def _safe(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_") or "file"


def _request_data(user: User, agency: Agency, records_request: RecordsRequest) -> AgencyPart:
    part = AgencyPart(agency)
    view = PublicView(records_request, Viewer.REQUESTER)
    folder = f"{agency.slug}/{records_request.number}"
    released = list(document_access.resident_documents(view))
    own_uploads = list(
        Document.objects.filter(
            agency=agency,
            request=records_request,
            uploaded_by=user,
            uploaded_by_requester=True,
            status=DocumentStatus.CLEAN,
        ).order_by("created_at")
    )
    documents = []
    for document, kind in [(d, "released to you") for d in released] + [
        (d, "your upload") for d in own_uploads if d not in released
    ]:
        version = (
            document_access.released_version(document)
            if kind == "released to you"
            else document_access.original_version(document)
        )
        path = f"documents/{folder}/{document.public_id.hex[:8]}-{_safe(document.filename)}"
        part.files.append(FileToCopy(path, version))
        documents.append({"file": path, "name": document.filename, "kind": kind})
    invoices = []
    for invoice in billing_access.requester_invoices(view):
        invoices.append(
            {
                "number": invoice.number,
                "status": invoice.status,
                "currency": invoice.currency,
                "total_cents": invoice.total_cents,
                "paid_cents": invoice.paid_cents,
                "refunded_cents": invoice.refunded_cents,
                "sent_at": _when(invoice.sent_at),
                "lines": [
                    {"description": line.description, "amount_cents": line.amount_cents}
                    for line in billing_access.invoice_lines(invoice)
                ],
                "payments": [
                    {
                        "method": payment.method,
                        "amount_cents": payment.amount_cents,
                        "refunded_cents": payment.refunded_cents,
                        "received_at": _when(payment.received_at),
                    }
                    for payment in billing_access.invoice_payments(invoice)
                ],
            }
        )
    part.data = {
        "number": records_request.number,
        "title": records_request.title,
        "description": records_request.description,
        "status": records_request.status,
        "received_at": _when(records_request.received_at),
        "due_date": records_request.due_date.isoformat(),
        "closed_at": _when(records_request.closed_at),
        "requester": {
            "name": records_request.requester_name,
            "email": records_request.requester_email,
            "phone": records_request.requester_phone,
            "address": records_request.requester_address,
        },
        "custom_answers": records_request.custom_data,
        "timeline": [
            {"at": _when(entry.created_at), "summary": entry.summary}
            for entry in request_access.timeline_for(user, agency, records_request, public=True)
        ],
        "messages": [
            {
                "at": _when(message.created_at),
                "kind": message.kind,
                "from_you": message.author_id == user.pk,
                "body": message.body,
            }
            for message in request_access.messages_for(
                user, agency, records_request, viewer=Viewer.REQUESTER
            )
        ],
        "documents": documents,
        "invoices": invoices,
    }
    return part


def agency_parts(user: User) -> Iterator[AgencyPart]:
    """For each agency that holds something about the person, in its own RLS context: their
    membership, their requests (with what they may read of each) and their audit events."""
    for agency in Agency.objects.order_by("pk"):
        with agency_context(agency):
            requests = list(
                request_access.requester_requests_for(user, agency).order_by("year", "sequence")
            )
            membership = Membership.objects.filter(agency=agency, user=user).first()
            events = list(AuditEvent.objects.filter(agency=agency, actor=user).order_by("id"))
            if not requests and membership is None and not events:
                continue
            whole = AgencyPart(agency)
            whole.data = {
                "agency": agency.name,
                "membership": None
                if membership is None
                else {
                    "role": membership.role,
                    "active": membership.is_active,
                    "since": _when(membership.created_at),
                },
                "requests": [],
                "activity": [_event(event) for event in events],
            }
            for records_request in requests:
                part = _request_data(user, agency, records_request)
                whole.data["requests"].append(part.data)
                whole.files.extend(part.files)
            yield whole


def platform_events(user: User) -> list[dict[str, Any]]:
    with agency_context(None, platform=True):
        return [
            _event(event)
            for event in AuditEvent.objects.filter(agency__isnull=True, actor=user).order_by("id")
        ]
