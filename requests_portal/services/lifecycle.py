"""A request's life after filing: acknowledged, routed to departments, closed with a
reason, reopened; who may see it, and embargoed requests turning public."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from requests_portal import audit_events, notifications
from requests_portal.models import (
    ClosureReason,
    Department,
    Message,
    MessageKind,
    PublicSearchEntry,
    RecordsRequest,
    RequestDepartment,
    Status,
    Visibility,
)
from requests_portal.services import review
from requests_portal.services.changes import (
    RequestStateError,
    add_timeline_event,
    locked,
    mark_responded,
    require_open,
)
from requests_portal.services.clock import settings_for
from requests_portal.services.messaging import email_requester


@locked
def request_acknowledge(
    *, records_request: RecordsRequest, actor: User, http_request: HttpRequest | None = None
) -> None:
    require_open(records_request, "acknowledged")
    if records_request.acknowledged_at is not None:
        raise RequestStateError("This request has already been acknowledged.")
    with transaction.atomic():
        if records_request.status == Status.SUBMITTED:
            records_request.status = Status.OPEN  # a paused request stays paused
        records_request.acknowledged_at = timezone.now()
        records_request.save(update_fields=["status", "acknowledged_at", "updated_at"])
        mark_responded(records_request, records_request.acknowledged_at)
        add_timeline_event(
            records_request, "acknowledged", actor, "Request acknowledged", public=True
        )
        audit.record_for(
            audit_events.REQUEST_ACKNOWLEDGED,
            records_request,
            actor=actor,
            http_request=http_request,
        )


@locked
def request_route(
    *,
    records_request: RecordsRequest,
    actor: User,
    departments: list[Department],
    lead: Department | None,
    point_of_contact: User | None,
    http_request: HttpRequest | None = None,
) -> None:
    """Set the request's departments (one lead, the others support) and point of contact."""
    previous_contact = records_request.point_of_contact_id
    with transaction.atomic():
        keep = {d.pk for d in departments}
        RequestDepartment.objects.filter(
            agency=records_request.agency, request=records_request
        ).exclude(department_id__in=keep).delete()
        for department in departments:
            link, _ = RequestDepartment.objects.get_or_create(
                agency=records_request.agency, request=records_request, department=department
            )
            is_lead = lead is not None and department.pk == lead.pk
            if link.is_lead != is_lead:
                link.is_lead = is_lead
                link.save(update_fields=["is_lead"])
        records_request.point_of_contact = point_of_contact
        records_request.save(update_fields=["point_of_contact", "updated_at"])
        names = ", ".join(sorted(d.name for d in departments)) or "no department"
        contact = point_of_contact.email if point_of_contact else "nobody"
        add_timeline_event(
            records_request,
            "routed",
            actor,
            f"Routed to {names}; point of contact {contact}",
            public=False,
            data={"departments": sorted(keep), "lead": lead.pk if lead else None},
        )
        audit.record_for(
            audit_events.REQUEST_ROUTED,
            records_request,
            actor=actor,
            http_request=http_request,
            departments=sorted(keep),
            point_of_contact=getattr(point_of_contact, "pk", None),
        )
        if point_of_contact is not None and point_of_contact.pk != previous_contact:
            notifications.notify_assigned(
                records_request, point_of_contact, http_request=http_request, actor=actor
            )


@locked
def request_close(
    *,
    records_request: RecordsRequest,
    actor: User,
    reason: ClosureReason,
    citation: str = "",
    note: str = "",
    http_request: HttpRequest | None = None,
) -> None:
    require_open(records_request, "closed again")
    if reason.agency_id != records_request.agency_id or not reason.is_active:
        raise RequestStateError("Choose one of the agency's closure reasons.")
    if reason.requires_citation and not citation.strip():
        raise RequestStateError(f"“{reason.name}” needs the exemption it relies on.")
    now = timezone.now()
    request_settings = settings_for(records_request.agency)
    with transaction.atomic():
        records_request.status = Status.CLOSED
        records_request.closed_at = now
        records_request.closure_reason = reason
        records_request.closure_citation = citation.strip()[:300]
        records_request.paused_at = None
        records_request.pause_reason = ""
        records_request.remaining_days = None
        records_request.public_from = now + datetime.timedelta(days=request_settings.embargo_days)
        if records_request.first_response_at is None:
            records_request.first_response_at = now
        records_request.save()
        summary = f"Closed: {reason.name}" + (f" ({citation.strip()})" if citation.strip() else "")
        add_timeline_event(
            records_request, "closed", actor, summary, public=True, data={"note": note}
        )
        if note.strip():
            Message.objects.create(
                agency=records_request.agency,
                request=records_request,
                kind=MessageKind.TO_REQUESTER,
                author=actor,
                body=note.strip(),
            )
        audit.record_for(
            audit_events.REQUEST_CLOSED,
            records_request,
            actor=actor,
            http_request=http_request,
            reason=reason.name,
            citation=citation.strip(),
        )
        email_requester(
            records_request, "closed", http_request=http_request, reason=reason, note=note
        )


@locked
def request_reopen(
    *,
    records_request: RecordsRequest,
    actor: User,
    reason: str,
    http_request: HttpRequest | None = None,
) -> None:
    if not records_request.is_closed:
        raise RequestStateError("Only a closed request can be reopened.")
    with transaction.atomic():
        # Never acknowledged: back to "submitted", so the acknowledgement is still asked for.
        records_request.status = (
            Status.OPEN if records_request.acknowledged_at else Status.SUBMITTED
        )
        records_request.closed_at = None
        records_request.closure_reason = None
        records_request.closure_citation = ""
        records_request.public_from = None
        records_request.save()
        add_timeline_event(records_request, "reopened", actor, f"Reopened: {reason}", public=True)
        audit.record_for(
            audit_events.REQUEST_REOPENED,
            records_request,
            actor=actor,
            http_request=http_request,
            reason=reason,
        )


@locked
def request_set_visibility(
    *,
    records_request: RecordsRequest,
    actor: User,
    visibility: str,
    http_request: HttpRequest | None = None,
) -> None:
    if visibility not in Visibility.values:
        raise RequestStateError("Choose one of the visibility levels.")
    old = records_request.visibility
    if old == visibility:
        return
    with transaction.atomic():
        records_request.visibility = visibility
        add_timeline_event(
            records_request,
            "visibility_changed",
            actor,
            f"Visibility: {Visibility(old).label} → {Visibility(visibility).label}",
            public=False,
            data={"from": old, "to": visibility},
        )
        audit.record(
            audit_events.REQUEST_VISIBILITY_CHANGED.code,
            http_request=http_request,
            agency=records_request.agency,
            actor=actor,
            target=records_request,
            details={"from": old, "to": visibility},
        )
        # Made public with personal data nobody reviewed yet: held until staff do.
        review.hold_if_unreviewed(records_request, actor=actor, http_request=http_request)
        records_request.save(
            update_fields=["visibility", "description_held", "personal_data_kinds", "updated_at"]
        )


def publish_due_embargoes(*, agency: Agency) -> int:
    """Put embargoed requests whose embargo has ended into the public search index.

    Their pages turn public by themselves (access.public_requests compares public_from with
    the clock); the index is kept by a trigger that runs on writes, so touch the rows."""
    indexed = PublicSearchEntry.objects.filter(agency=agency).values("request_id")
    due = RecordsRequest.objects.filter(
        agency=agency,
        visibility=Visibility.EMBARGOED,
        public_from__lte=timezone.now(),
        description_held=False,
    ).exclude(pk__in=indexed)
    return due.update(visibility=Visibility.EMBARGOED)
