"""Background work of the billing app. Thin: each task runs one function in its agency's
context (accounts.tenancy.TenantTask). Services queue these by name through billing.jobs,
never by importing this module."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.access import agency_for_task
from accounts.tenancy import for_each_active_agency
from billing import emails, stripe_access
from billing.services import stripe_webhooks


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_receipt(*, agency_id: int, payment_id: int) -> None:
    """The receipt of one payment, to the requester (billing.jobs.send_receipt)."""
    emails.receipt_send(agency_id=agency_id, payment_id=payment_id)


@shared_task
def process_webhook_event(*, agency_id: int, event_id: int) -> str:
    """Apply one stored Stripe event, idempotently (billing.jobs.process_webhook_event)."""
    event = stripe_access.webhook_event_for_task(agency_id, event_id)
    if event is None:
        return "missing"
    return stripe_webhooks.webhook_process(event=event)


@shared_task
def queue_webhook_retries(*, agency_id=None) -> int:
    """Beat, every ten minutes, on the platform: one ``retry_webhook_events`` per agency."""
    return for_each_active_agency(retry_webhook_events)


@shared_task
def retry_webhook_events(*, agency_id: int) -> int:
    """Process again the agency's Stripe events left unprocessed for a minute or more (Stripe
    did not answer while one was processed, or its task was lost)."""
    agency = agency_for_task(agency_id)
    waiting = stripe_access.unprocessed_webhook_events(
        agency, timezone.now() - timedelta(minutes=1)
    )
    for event_pk in waiting:
        event = stripe_access.webhook_event_for_task(agency_id, event_pk)
        if event is not None:
            stripe_webhooks.webhook_process(event=event)
    return len(waiting)
