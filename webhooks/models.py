"""Where an agency's systems want to hear of events (``WebhookEndpoint``) and each event
sent, or still to send, to one of them (``WebhookDelivery``, the log admins read).

A delivery row is written in the transaction of the change it reports (webhooks.events), so
it commits or rolls back with the change: it is its own outbox. The worker sends it and
writes back what the receiver answered.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantOwned


class EventType(models.TextChoices):
    REQUEST_CREATED = "request.created", _("Request created")
    REQUEST_UPDATED = "request.updated", _("Request updated")
    REQUEST_CLOSED = "request.closed", _("Request closed")
    DOCUMENT_RELEASED = "document.released", _("Document released")
    INVOICE_PAID = "invoice.paid", _("Invoice paid")


class WebhookEndpoint(TenantOwned):
    """One address of the agency's systems, the events it wants and its signing secret,
    sealed with the master keyring and bound to this row (``secret_aad``)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    sealed_secret = models.BinaryField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    def secret_aad(self) -> str:
        return f"webhook-secret:{self.agency_id}:{self.pk}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (no more tries)")


class WebhookDelivery(TenantOwned):
    """One event for one endpoint: what is sent (``payload``, the same bytes every try), how
    many tries so far, when the next one is due, and the last answer."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    event = models.CharField(max_length=32, choices=EventType.choices)
    # What the event is about ("request", 12), so a burst of updates is sent once.
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    payload = models.JSONField()
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "state", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_log"),
        ]
