"""Text of a PDF: the text of every page as pdfium extracts it, which includes invisible
text (render mode 3, the OCR layer of scans), white or covered text and text outside the
page; the document information dictionary, XMP metadata, bookmarks, annotations (contents,
author, subject, rich text) of every page, form field names and values, names of attached
files (pikepdf). The attached files themselves are checked by the malware inspection."""

from __future__ import annotations

import io
from collections.abc import Iterator

from celery.exceptions import SoftTimeLimitExceeded

from documents.scan.attachments import filespec_name, stream_bytes
from documents.scan.extract.base import (
    MAX_PDF_PAGES,
    MAX_XML_PART,
    PasswordProtected,
    Piece,
    Reader,
    Unreadable,
    html_text,
    xml_text,
)
from documents.scan.malware import join


class PdfReader(Reader):
    """Reads PDFs: pages (pdfium), metadata, annotations, forms, attachment names (pikepdf)."""

    def pdf(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        import pikepdf  # heavy parsers are loaded only when a file of their kind is read

        try:
            document = pikepdf.open(io.BytesIO(data))
        except pikepdf.PasswordError:
            raise PasswordProtected(
                "This PDF is protected with a password, so it can't be checked or redacted. "
                "Ask for a copy without a password."
            ) from None
        except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
            raise
        except Exception:  # noqa: BLE001 (qpdf's errors for a damaged file vary)
            raise Unreadable("This PDF is damaged and can't be read. Ask for a new copy.") from None
        with document:
            yield from self._guarded(
                location, "The text of the pages", self._pdf_pages(data, location)
            )
            yield from self._guarded(
                location, "The PDF's metadata", self._pdf_metadata(document, location)
            )
            yield from self._guarded(
                location, "The PDF's annotations", self._pdf_annotations(document, location)
            )
            yield from self._guarded(location, "The PDF's form", self._pdf_form(document, location))
            yield from self._guarded(
                location, "The PDF's attached files", self._pdf_attachments(document, location)
            )

    def _pdf_pages(self, data: bytes, location: str) -> Iterator[Piece]:
        import pypdfium2

        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError:
            raise Unreadable("This PDF is damaged and can't be read. Ask for a new copy.") from None
        try:
            count = len(document)
            if count > MAX_PDF_PAGES:
                self.note(
                    location,
                    f"Only the first {MAX_PDF_PAGES:,} of {count:,} pages were checked.",
                )
            for index in range(min(count, MAX_PDF_PAGES)):
                page = document[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_range()
                    finally:
                        textpage.close()
                finally:
                    page.close()
                if text.strip():
                    number = index + 1
                    yield Piece(
                        join(location, f"page {number}"), text, page=None if location else number
                    )
            try:
                toc = [item.title for item in document.get_toc(max_depth=8)]
            except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
                raise
            except Exception:  # noqa: BLE001
                toc = []
            if toc:
                yield Piece(join(location, "bookmarks"), "\n".join(toc))
        finally:
            document.close()

    def _pdf_metadata(self, document, location: str) -> Iterator[Piece]:
        info = document.trailer.get("/Info")
        if info is not None:
            lines = [f"{str(key).lstrip('/')}: {_pdf_string(value)}" for key, value in info.items()]
            if lines:
                yield Piece(join(location, "PDF metadata (document information)"), "\n".join(lines))
        metadata = document.Root.get("/Metadata")
        if metadata is not None:
            raw = stream_bytes(metadata, MAX_XML_PART)
            if raw is None:
                self.note(location, "The PDF's XMP metadata could not be read.")
            elif text := xml_text(raw):
                yield Piece(join(location, "PDF metadata (XMP)"), text)

    def _pdf_annotations(self, document, location: str) -> Iterator[Piece]:
        for number, page in enumerate(document.pages, start=1):
            for index, annot in enumerate(page.obj.get("/Annots", None) or [], start=1):
                if not hasattr(annot, "get"):
                    continue
                lines = []
                for key in ("/Contents", "/T", "/Subj", "/RC", "/TU", "/V"):
                    value = annot.get(key)
                    if value is not None:
                        lines.append(_pdf_string(value))
                if "/FS" in annot:
                    lines.append(filespec_name(annot.FS))
                text = "\n".join(line for line in lines if line.strip())
                if text:
                    subtype = str(annot.get("/Subtype", "")).lstrip("/") or "annotation"
                    yield Piece(
                        join(location, f"page {number} annotation {index} ({subtype})"),
                        text,
                        page=None if location else number,
                    )

    def _pdf_form(self, document, location: str) -> Iterator[Piece]:
        form = document.Root.get("/AcroForm")
        if form is None:
            return
        stack = list(form.get("/Fields", None) or [])
        seen = 0
        while stack and seen < 100_000:
            field = stack.pop()
            seen += 1
            if not hasattr(field, "get"):
                continue
            lines = [
                _pdf_string(field.get(key))
                for key in ("/T", "/TU", "/V", "/DV")
                if field.get(key) is not None
            ]
            text = "\n".join(line for line in lines if line.strip())
            if text:
                yield Piece(join(location, "form field"), text)
            stack.extend(field.get("/Kids", None) or [])

    def _pdf_attachments(self, document, location: str) -> Iterator[Piece]:
        names = [str(name) for name in document.attachments]
        names += [filespec_name(spec.obj) for spec in document.attachments.values()]
        text = "\n".join(sorted({name for name in names if name}))
        if text:
            yield Piece(join(location, "names of attached files"), text)


def _pdf_string(value) -> str:
    import pikepdf

    try:
        if isinstance(value, pikepdf.Stream):  # rich text (/RC) may be a stream
            raw = stream_bytes(value, MAX_XML_PART) or b""
            return html_text(raw.decode("utf-8", "replace"))
        if isinstance(value, pikepdf.Array):
            return "\n".join(_pdf_string(item) for item in value)
        text = str(value)
    except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
        raise
    except Exception:  # noqa: BLE001
        return ""
    return html_text(text) if text.lstrip().startswith("<") else text
