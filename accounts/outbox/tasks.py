"""Beat, every minute, on the maintenance queue: send what the outbox still holds."""

from celery import Task, shared_task

from accounts.outbox import relay


@shared_task(base=Task, ignore_result=True, soft_time_limit=50, time_limit=60)
def relay_outbox(*, agency_id: None = None) -> int:
    """Send the outbox's rows older than the grace period (accounts/outbox/relay.py).

    A plain Celery task, not a TenantTask: it works on the platform table only, one short
    transaction per batch, so a row sent is deleted at once rather than when a whole run
    ends."""
    return relay.relay()
