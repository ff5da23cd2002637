"""Background work of the webhooks. Thin: each task runs one service in its agency's context
(accounts.tenancy.TenantTask). Services queue these by name through webhooks.jobs."""

from celery import shared_task

from accounts.access import agency_for_task
from accounts.tenancy import for_each_active_agency
from webhooks import services


@shared_task
def deliver(*, agency_id: int, delivery_id: int) -> str:
    """One try of one delivery (webhooks.jobs.deliver); later tries come from the sweep."""
    return services.delivery_attempt(agency_id=agency_id, delivery_id=delivery_id)


@shared_task
def queue_due_deliveries(*, agency_id=None) -> int:
    """Beat, every minute, on the platform: one ``send_due_deliveries`` per agency."""
    return for_each_active_agency(send_due_deliveries)


@shared_task
def send_due_deliveries(*, agency_id: int) -> int:
    """Try the agency's deliveries whose next try is due (retries after backoff)."""
    return services.deliveries_send_due(agency=agency_for_task(agency_id))
