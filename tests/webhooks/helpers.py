"""Builders of the webhooks tests."""

from __future__ import annotations

from accounts.tenancy import agency_context
from webhooks import services
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

ALL_EVENTS = list(EventType.values)


def endpoint(tenant, url: str, events: list[str] | None = None) -> tuple[WebhookEndpoint, str]:
    """An address of ``tenant`` (added by its admin through the service) and its secret."""
    with agency_context(tenant.agency):
        return services.endpoint_create(
            agency=tenant.agency,
            actor=tenant.admin,
            url=url,
            chosen_events=events or ALL_EVENTS,
        )


def deliveries(tenant) -> list[WebhookDelivery]:
    with agency_context(tenant.agency):
        return list(WebhookDelivery.objects.filter(agency=tenant.agency).order_by("pk"))
