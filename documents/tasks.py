"""Background work on documents (the Celery "documents" queue). Thin: each task runs one
service in its agency's context (accounts.tenancy.TenantTask). Services queue these by name
through documents.jobs, never by importing this module."""

from celery import shared_task

from accounts.tenancy import for_each_active_agency
from documents import jobs, search, upkeep
from documents.redaction import services as redaction_services
from documents.redaction import working
from documents.scan import scanner


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=900,  # a file that takes longer ends FAILED (the scanner catches it)
    time_limit=960,
)
def scan_document(*, agency_id: int, document_id: int, attempt: int = 0) -> None:
    outcome = scanner.scan(agency_id, document_id)
    if outcome is not None and outcome.retry and attempt < scanner.RETRIES:
        # clamd or storage was unreachable: the document stays quarantined; try again later.
        jobs.scan_document_again(
            agency_id=agency_id,
            document_id=document_id,
            attempt=attempt + 1,
            delay=scanner.retry_delay(attempt),
        )


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def index_document(*, agency_id: int, document_id: int) -> None:
    """Put the released text of a document in (or take it out of) the archive search."""
    search.index_by_id(agency_id, document_id)


# The longest late-acknowledged task: the broker's visibility timeout (config/jobs_settings.py)
# stays above its hard limit.
@shared_task(acks_late=True, soft_time_limit=1620, time_limit=1680)
def apply_redactions(*, agency_id: int, document_id: int, actor_id: int | None) -> None:
    """Burn a document's draft redactions into a new version (OCR: seconds a page)."""
    redaction_services.redaction_run(agency_id, document_id, actor_id)


@shared_task(acks_late=True, soft_time_limit=280, time_limit=300)
def convert_for_redaction(*, agency_id: int, document_id: int) -> None:
    """Make the PDF an office, text or CSV file is redacted on (LibreOffice: up to minutes)."""
    working.conversion_run(agency_id, document_id)


@shared_task
def queue_upkeep(*, agency_id=None) -> int:
    """Beat, hourly, on the platform: one upkeep task per agency."""
    return for_each_active_agency(agency_upkeep)


@shared_task
def agency_upkeep(*, agency_id: int) -> dict:
    """Abandon expired uploads (their stored parts are deleted), and scan again documents
    left in quarantine (a scan that ran out of retries)."""
    return upkeep.run(agency_id)
