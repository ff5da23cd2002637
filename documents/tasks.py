"""Background work on documents (the Celery "documents" queue). Thin: each task runs one
service in its agency's context (accounts.tenancy.TenantTask)."""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def scan_document(*, agency_id: int, document_id: int) -> None:
    from documents import scanning

    scanning.scan(document_id)
