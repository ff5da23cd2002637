"""Small builders for document tests: a PDF with text, and a stored document on a request."""

from __future__ import annotations

import io

import pikepdf

from accounts.tenancy import agency_context
from documents import versions
from documents.models import Document, DocumentStatus, VersionKind


def pdf_with_text(*lines: str, pages: int = 1) -> bytes:
    """A real PDF (Helvetica text) that pdfium can read back."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for page_number in range(pages):
        parts = ["BT", "/F1 14 Tf", "72 720 Td", "18 TL"]
        for line in lines or ("Page",):
            safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            parts.append(f"({safe}) Tj T*")
        parts.append(f"(Page {page_number + 1}) Tj")
        parts.append("ET")
        content = pdf.make_stream("\n".join(parts).encode("latin-1"))
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 612, 792],
            Contents=content,
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def stored_document(
    records_request,
    data: bytes,
    *,
    filename: str = "minutes.pdf",
    content_type: str = "application/pdf",
    status: str = DocumentStatus.CLEAN,
    actor=None,
) -> Document:
    """A document with its original stored encrypted (through the real service)."""
    with agency_context(records_request.agency_id):
        document = Document.objects.create(
            agency_id=records_request.agency_id,
            request=records_request,
            filename=filename,
            content_type=content_type,
            size=len(data),
            status=status,
            # As a complete scan would leave it (documents.scan.scanner sets it).
            pii_checked=status == DocumentStatus.CLEAN,
            uploaded_by=actor,
        )
        versions.version_create(
            document=document, kind=VersionKind.ORIGINAL, chunks=[data], actor=actor
        )
    return document
