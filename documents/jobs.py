"""Background work the documents services ask for, by task name (``documents.tasks.<name>``),
sent once the caller's transaction commits (accounts.jobs.enqueue).

Services call these instead of importing ``documents.tasks``: the tasks import the services,
so the other direction would be an import cycle.
"""

from __future__ import annotations

from accounts.jobs import enqueue
from documents.models import Document


def scan_document(*, agency_id: int, document_id: int) -> None:
    """Scan a document (a new upload, or one left in quarantine)."""
    enqueue("documents.tasks.scan_document", agency_id=agency_id, document_id=document_id)


def scan_document_again(*, agency_id: int, document_id: int, attempt: int, delay: float) -> None:
    """Scan again in ``delay`` seconds a document whose scan could not finish (clamd or
    storage unreachable); ``attempt`` counts the tries so far."""
    enqueue(
        "documents.tasks.scan_document",
        countdown=delay,
        agency_id=agency_id,
        document_id=document_id,
        attempt=attempt,
    )


def index_document(document: Document) -> None:
    """Put the released text of a document in (or take it out of) the archive search."""
    enqueue("documents.tasks.index_document", agency_id=document.agency_id, document_id=document.pk)


def apply_redactions(document: Document, *, actor_id: int | None) -> None:
    """Burn the document's draft redactions into a new version."""
    enqueue(
        "documents.tasks.apply_redactions",
        agency_id=document.agency_id,
        document_id=document.pk,
        actor_id=actor_id,
    )


def convert_for_redaction(document: Document) -> None:
    """Make the PDF an office, text or CSV file is redacted on."""
    enqueue(
        "documents.tasks.convert_for_redaction",
        agency_id=document.agency_id,
        document_id=document.pk,
    )
