"""Background work the webhooks services ask for, by task name (``webhooks.tasks.<name>``),
sent once the caller's transaction commits (accounts.jobs.enqueue)."""

from __future__ import annotations

from accounts.jobs import enqueue
from webhooks.models import WebhookDelivery


def deliver(delivery: WebhookDelivery) -> None:
    """Try one delivery now (its first try, or one an admin asked for again)."""
    enqueue("webhooks.tasks.deliver", agency_id=delivery.agency_id, delivery_id=delivery.pk)
