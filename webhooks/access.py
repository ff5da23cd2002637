"""Tenant-scoped reads of the agency's webhook addresses and their delivery log. Views,
services and tasks reach these rows only through here; another agency's row, or one the
person may not manage, answers 404."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import Agency, User
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

LOG_LENGTH = 100


def _require(user: User | AnonymousUser, agency: Agency) -> None:
    if not policy.can(user, agency, policy.WEBHOOKS_MANAGE):
        raise Http404


def endpoints_for(user: User | AnonymousUser, agency: Agency) -> list[WebhookEndpoint]:
    """The agency's webhook addresses, oldest first (admins only)."""
    _require(user, agency)
    return list(WebhookEndpoint.objects.filter(agency=agency).order_by("created_at", "pk"))


def endpoint_for(user: User | AnonymousUser, agency: Agency, endpoint_id: int) -> WebhookEndpoint:
    _require(user, agency)
    found = WebhookEndpoint.objects.filter(agency=agency, pk=endpoint_id).first()
    if found is None:
        raise Http404
    return found


def deliveries_of(endpoint: WebhookEndpoint, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
    """The address's latest deliveries, newest first (the log admins read)."""
    return list(
        WebhookDelivery.objects.filter(agency=endpoint.agency_id, endpoint=endpoint).order_by(
            "-created_at", "-pk"
        )[:limit]
    )


def delivery_for(user: User | AnonymousUser, agency: Agency, delivery_id: int) -> WebhookDelivery:
    _require(user, agency)
    found = (
        WebhookDelivery.objects.filter(agency=agency, pk=delivery_id)
        .select_related("endpoint")
        .first()
    )
    if found is None:
        raise Http404
    return found


def endpoints_listening(agency_id: int, event: str) -> list[WebhookEndpoint]:
    """The agency's active addresses subscribed to ``event`` (for the events' listener)."""
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(agency=agency_id, is_active=True)
        if event in endpoint.events
    ]


def unsent_delivery(
    endpoint: WebhookEndpoint, event: str, object_type: str, object_id: int
) -> WebhookDelivery | None:
    """A delivery of this event about this object not tried yet (a second update before the
    first is sent replaces its payload instead of adding another delivery)."""
    return (
        WebhookDelivery.objects.filter(
            agency=endpoint.agency_id,
            endpoint=endpoint,
            event=event,
            object_type=object_type,
            object_id=object_id,
            state=DeliveryState.PENDING,
            attempts=0,
        )
        .order_by("pk")
        .first()
    )


def due_deliveries(agency: Agency, now: datetime, limit: int = 200) -> list[int]:
    """Ids of the agency's deliveries waiting for a try due by ``now``, oldest first."""
    return list(
        WebhookDelivery.objects.filter(
            agency=agency,
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_for_task(agency_id: int, delivery_id: int) -> WebhookDelivery | None:
    """The delivery a task was sent for, with its address; None if it is gone."""
    return (
        WebhookDelivery.objects.filter(agency=agency_id, pk=delivery_id)
        .select_related("endpoint", "agency")
        .first()
    )


def delivery_states(
    endpoints: QuerySet[WebhookEndpoint] | list[WebhookEndpoint],
) -> dict[int, dict[str, int]]:
    """Per address: how many deliveries are pending, delivered and failed."""
    counts: dict[int, dict[str, int]] = {e.pk: {} for e in endpoints}
    if not counts:
        return counts
    rows = (
        WebhookDelivery.objects.filter(endpoint__in=list(counts))
        .values_list("endpoint", "state")
        .order_by()
    )
    for endpoint_id, state in rows:
        counts[endpoint_id][state] = counts[endpoint_id].get(state, 0) + 1
    return counts
