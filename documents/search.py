"""Released documents' text in the public archive search.

The archive searches ``PublicSearchEntry`` (requests_portal), one row per public request.
Its ``attachments_vector`` holds the text of the request's documents released to the
public; this module keeps it, and the request table's trigger adds it back whenever the
request itself is re-indexed. Only the released version's text is ever indexed (the
redacted one when there is one), and only while the document is public.
"""

from __future__ import annotations

from django.db import connection

from documents import access
from documents.errors import DocumentError
from documents.models import Document, ReleaseLevel
from documents.scan.extract.base import Unreadable
from documents.scan.extract.extraction import Extraction
from documents.versions import version_bytes

# tsvector values are limited to 1 MB; text beyond this is not indexed.
MAX_TEXT_PER_DOCUMENT = 200_000
MAX_TEXT_PER_REQUEST = 400_000


def released_text(document: Document) -> str:
    """Text of the version the public gets, from the same extractors the scanner uses."""
    version = access.released_version(document)
    data = version_bytes(version, limit=200 * 1024 * 1024)
    texts, size = [], 0
    try:
        mime = version.content_type or document.content_type
        for piece in Extraction().pieces(data, mime=mime):
            texts.append(piece.text)
            size += len(piece.text)
            if size > MAX_TEXT_PER_DOCUMENT:
                break
    except Unreadable:
        return ""
    return "\n".join(texts)[:MAX_TEXT_PER_DOCUMENT]


def index_by_id(agency_id: int, document_id: int) -> None:
    document = (
        Document.objects.filter(agency=agency_id, pk=document_id)
        .select_related("request__agency")
        .first()
    )
    if document is not None:
        index(document)


def index(document: Document) -> None:
    """Store the document's public text (or clear it), then refresh its request's entry."""
    public = (
        document.release == ReleaseLevel.PUBLIC
        and access.public_documents(document.request.agency).filter(pk=document.pk).exists()
    )
    text = ""
    if public:
        try:
            text = released_text(document)
        except DocumentError:
            text = ""
    if text != document.released_text:
        Document.objects.filter(agency=document.agency_id, pk=document.pk).update(
            released_text=text
        )
    refresh(document)


def refresh(document: Document) -> None:
    """Recompute the request's entry from the public text of all its documents."""
    records_request = document.request
    texts = (
        access.public_documents(records_request.agency)
        .filter(request=records_request)
        .values_list("released_text", flat=True)
    )
    combined = "\n".join(t for t in texts if t)[:MAX_TEXT_PER_REQUEST]
    # Raw SQL because the entry's vector is rebuilt from the request's own vector in one
    # statement (an UPDATE ... FROM the ORM cannot express). Text, ids and agency are bound
    # parameters: test_document_text_full_of_sql_and_search_syntax_is_indexed_as_plain_words.
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- an UPDATE ... FROM the ORM cannot express; bound values
        cursor.execute(
            """
            UPDATE requests_portal_publicsearchentry AS entry
            SET attachments_vector = to_tsvector('english', %s),
                search_vector = coalesce(r.search_vector, ''::tsvector)
                    || ('agency' || r.agency_id)::tsvector
                    || to_tsvector('english', %s)
            FROM requests_portal_recordsrequest AS r
            WHERE r.id = entry.request_id AND entry.request_id = %s AND entry.agency_id = %s
            """,
            [combined, combined, records_request.pk, records_request.agency_id],
        )
