"""Background work the billing services ask for, by task name (``billing.tasks.<name>``),
sent once the caller's transaction commits (accounts.jobs.enqueue).

Services call these instead of importing ``billing.tasks``: the tasks import the services,
so the other direction would be an import cycle.
"""

from __future__ import annotations

from accounts.jobs import enqueue
from billing.models import Payment, WebhookEvent


def send_receipt(payment: Payment) -> None:
    """Email the requester a receipt for one payment."""
    enqueue("billing.tasks.send_receipt", agency_id=payment.agency_id, payment_id=payment.pk)


def process_webhook_event(event: WebhookEvent) -> None:
    """Apply one stored Stripe event (billing.services.stripe_webhooks.webhook_process)."""
    enqueue("billing.tasks.process_webhook_event", agency_id=event.agency_id, event_id=event.pk)
