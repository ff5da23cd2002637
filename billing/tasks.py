"""Background work of the billing app. Thin: each task runs one function in its agency's
context (accounts.tenancy.TenantTask). Services queue these by name through billing.jobs,
never by importing this module."""

from celery import shared_task

from billing import emails


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_receipt(*, agency_id: int, payment_id: int) -> None:
    """The receipt of one payment, to the requester (billing.jobs.send_receipt)."""
    emails.receipt_send(agency_id=agency_id, payment_id=payment_id)
