"""Released documents' text in the public archive search (filled in with the archive work)."""

from documents.models import Document


def refresh(document: Document) -> None:
    """Placeholder until the archive integration lands: nothing to index yet."""
