"""Writes of the status page's incidents: each in one transaction with its platform audit
event (issue 13, monitoring)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import User
from accounts.tenancy import agency_context
from ops.audit_events import INCIDENT_POSTED, INCIDENT_RESOLVED
from ops.models import Incident


class IncidentError(Exception):
    """The change was refused; the message says why."""


def post_incident(
    *, operator: User, title: str, body: str, status: str, http_request: HttpRequest | None
) -> Incident:
    if status not in Incident.Status.values or status == Incident.Status.RESOLVED:
        raise IncidentError("Choose the incident's status.")
    with agency_context(None, platform=True):  # one transaction, the platform's chain
        incident = Incident.objects.create(
            title=title.strip(), body=body.strip(), status=status, posted_by=operator
        )
        audit.record(
            INCIDENT_POSTED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=incident,
            details={"title": incident.title, "status": status},
        )
    return incident


def resolve_incident(
    *, operator: User, incident_id: int, http_request: HttpRequest | None
) -> Incident:
    with agency_context(None, platform=True):  # one transaction, the platform's chain
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None:
            raise IncidentError("No such incident.")
        if incident.status == Incident.Status.RESOLVED:
            raise IncidentError("The incident is already resolved.")
        incident.status = Incident.Status.RESOLVED
        incident.resolved_at = timezone.now()
        incident.save(update_fields=["status", "resolved_at"])
        audit.record(
            INCIDENT_RESOLVED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=incident,
            details={"title": incident.title},
        )
    return incident
