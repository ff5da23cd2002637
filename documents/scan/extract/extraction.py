"""Text of a file for the personal-data scan, as (location, text) pieces, from its bytes.

Every place text can hide is read, and said in the location:

- PDF: the text of every page as pdfium extracts it, which includes invisible text (render
  mode 3, the OCR layer of scans), white or covered text and text outside the page; the
  document information dictionary, XMP metadata, bookmarks, annotations (contents, author,
  subject, rich text) of every page, form field names and values, names of attached files
  (pikepdf).
- XLSX: every sheet, hidden and very hidden ones too, every cell with its row/column hidden
  or its number format hiding it said in the location, formulas as written, cell comments,
  defined names, headers and footers, document and custom properties (openpyxl); and the
  text of the workbook's other parts that openpyxl doesn't read (pivot caches, chart
  caches, threaded comments, external link caches).
- DOCX, PPTX, ODT, ODS: the text of every XML part - body, tracked deletions and hidden
  runs, comments, headers and footers, foot/endnotes, slides and speaker notes, document
  and custom properties - and the embedded documents they carry.
- CSV (each cell with its column heading, so "SSN" or "DOB" headings give context), plain
  text, RTF; old Word/Excel files as the text runs found in them (no parser installed).
- Email (.eml, .mbox): headers, text and HTML bodies, attachment names, and the attachments
  themselves like any file, attached messages too.
- Zip archives: the names of their files, and every file of a type the portal reads,
  within the archive limits of documents.malware.
- Images: EXIF and text metadata (Pillow). Audio and video are not read.

A file that can't be read at all raises ``Unreadable`` (``PasswordProtected`` for an
encrypted PDF) with a message for staff; anything that goes wrong reading one part is a note
(``Extraction.notes``) and the rest is still read. Notes never contain the file's content.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded

from documents import malware, types

MIB = 1024 * 1024
MAX_IN_MEMORY = 200 * MIB  # the scanner reads a file into memory only up to this size
MAX_PDF_PAGES = 5_000
MAX_SPREADSHEET_XML = 150 * MIB  # uncompressed XML openpyxl may load (it holds it all)
MAX_XML_PART = 64 * MIB
MAX_NESTING = 6
LINES_PER_PIECE = 2_000

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ZIP = "application/zip"
EML = "message/rfc822"
MBOX = "application/mbox"
CSV = "text/csv"
TXT = "text/plain"
RTF = "application/rtf"
OLE_TYPES = ("application/msword", "application/vnd.ms-excel")


class Unreadable(Exception):
    """The file can't be read at all; the message is for staff."""


class PasswordProtected(Unreadable):
    pass


@dataclass(frozen=True)
class Piece:
    location: str  # "page 3", "sheet Payroll (hidden) C14", "archive.zip > notes.txt"
    text: str
    page: int | None = None  # 1-based page of the document itself (PDF)
    by_line: bool = False  # the scanner adds ", line N" from a match's position
    first_line: int = 1


def join(location: str, inner: str) -> str:
    return f"{location} > {inner}" if location else inner


def _decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --- Safe XML ---------------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_root(raw: bytes) -> ET.Element:
    """Parse XML from an upload. Office files never need a DOCTYPE; refusing any makes
    entity-expansion ("billion laughs") and external-entity attacks impossible without
    defusedxml (not installed)."""
    probe = raw
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        probe = raw.decode("utf-16", "replace").encode("utf-8")
    if _DOCTYPE.search(probe):
        raise ValueError("XML with a DOCTYPE is refused")
    return ET.fromstring(raw)  # noqa: S314 (no DOCTYPE, so no entities: see above)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


_PARAGRAPHS = {"p", "h"}  # w:p, a:p, text:p, text:h
_VALUE_ATTRIBUTES = {"v", "val", "value", "caption", "name", "author", "userId", "displayName"}


def xml_text(raw: bytes) -> str:
    """The text of an XML part: one line per paragraph when it has paragraphs (documents,
    slides), else one line per element with text or a value attribute (properties, pivot
    and chart caches)."""
    root = _xml_root(raw)
    paragraphs = [el for el in root.iter() if _local(el.tag) in _PARAGRAPHS]
    if paragraphs:
        lines = ["".join(el.itertext()) for el in paragraphs]
    else:
        lines = []
        for el in root.iter():
            if el.text and el.text.strip():
                lines.append(f"{_local(el.tag)}: {el.text.strip()}")
            for key, value in el.attrib.items():
                if _local(key) in _VALUE_ATTRIBUTES and value.strip():
                    lines.append(f"{_local(el.tag)}: {value.strip()}")
    return "\n".join(line for line in lines if line.strip())


# --- The extraction -------------------------------------------------------------------------------


class Extraction:
    """``pieces(data, mime=...)`` yields the text; ``notes`` says what could not be read."""

    def __init__(self, limits: malware.ArchiveLimits = malware.LIMITS):
        self.limits = limits
        self.notes: list[str] = []

    def note(self, location: str, message: str) -> None:
        text = f"{location}: {message}" if location else message
        if text not in self.notes:
            self.notes.append(text)

    def pieces(
        self, data: bytes, *, mime: str, name: str = "", location: str = "", nesting: int = 0
    ) -> Iterator[Piece]:
        """The pieces of one file. At the top (``location`` empty) a file that can't be read
        raises Unreadable; inside another file it becomes a note."""
        reader = self._reader(mime)
        if reader is None:
            if mime.startswith(("audio/", "video/")):
                self.note(location, "Audio and video are not checked for personal data.")
            return
        try:
            yield from reader(data, location=location, nesting=nesting)
        except Unreadable as error:
            if not location:
                raise
            self.note(location, str(error))
        except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
            raise
        except Exception as error:
            message = f"could not be read ({type(error).__name__}), so it was not checked."
            if not location:
                raise Unreadable(f"This file {message}") from error
            self.note(location, message.capitalize())

    def _reader(self, mime: str):
        if mime == PDF:
            return self.pdf
        if mime == XLSX:
            return self.xlsx
        if mime in (DOCX, PPTX, ODT, ODS):
            return self.office
        if mime == ZIP:
            return self.zip
        if mime == EML:
            return self.eml
        if mime == MBOX:
            return self.mbox
        if mime == CSV:
            return self.csv
        if mime == TXT:
            return self.text
        if mime == RTF:
            return self.rtf
        if mime in OLE_TYPES:
            return self.ole
        if mime.startswith("image/"):
            return self.image
        return None

    def _guarded(self, location: str, what: str, pieces: Iterator[Piece]) -> Iterator[Piece]:
        """Pieces of one part of a file: if reading it fails, a note, and the rest goes on."""
        try:
            yield from pieces
        except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
            raise
        except Exception as error:  # noqa: BLE001 (any parser error: the rest is still read)
            self.note(location, f"{what} could not be read ({type(error).__name__}).")

    # --- PDF ----------------------------------------------------------------------------------

    def pdf(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        import pikepdf

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
            raw = malware.stream_bytes(metadata, MAX_XML_PART)
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
                    lines.append(malware.filespec_name(annot.FS))
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
        names += [malware.filespec_name(spec.obj) for spec in document.attachments.values()]
        text = "\n".join(sorted({name for name in names if name}))
        if text:
            yield Piece(join(location, "names of attached files"), text)

    # --- Spreadsheets ---------------------------------------------------------------------------

    def xlsx(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        import openpyxl

        archive = malware.SafeZip(data, limits=self.limits)
        xml_size = sum(info.file_size for info in archive.infos)
        if xml_size > MAX_SPREADSHEET_XML:
            raise Unreadable(
                "This spreadsheet is too large to check for personal data here "
                f"(over {MAX_SPREADSHEET_XML // MIB} MB uncompressed)."
            )
        try:
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=False, data_only=False, keep_links=False
            )
        except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
            raise
        except Exception:  # noqa: BLE001 (openpyxl's errors vary)
            raise Unreadable(
                "This spreadsheet is damaged and can't be read, so it could not be checked."
            ) from None
        try:
            for sheet in workbook.worksheets:
                yield from self._guarded(location, "A sheet", self._sheet(sheet, location))
            yield from self._guarded(location, "The defined names", self._names(workbook, location))
            yield from self._guarded(
                location, "The workbook's properties", self._properties(workbook, location)
            )
        finally:
            workbook.close()
        yield from self._guarded(
            location, "Parts of the workbook", self._office_parts(archive, location, xlsx=True)
        )

    def _sheet(self, sheet, location: str) -> Iterator[Piece]:
        state = {"hidden": " (hidden)", "veryHidden": " (very hidden)"}.get(sheet.sheet_state, "")
        label = join(location, f"sheet {sheet.title}{state}")
        hidden_rows = {row for row, dim in sheet.row_dimensions.items() if dim.hidden}
        hidden_columns: set[int] = set()
        for dim in sheet.column_dimensions.values():
            if dim.hidden and dim.min and dim.max:
                hidden_columns.update(range(dim.min, min(dim.max, 16_384) + 1))
        # The sheet's cells as stored (sparse), not the bounding box of every styled cell.
        cells = sorted(sheet._cells.items())
        headings = {column: _heading(cell.value) for (row, column), cell in cells if row == 1}
        for (row, column), cell in cells:
            flags = []
            if row in hidden_rows:
                flags.append("hidden row")
            if column in hidden_columns:
                flags.append("hidden column")
            if cell.value is not None:
                text = _cell_text(cell.value)
                if cell.number_format and cell.number_format.replace('"', "").strip() == ";;;":
                    flags.append("hidden by its format")
                where = f"{label} {cell.coordinate}" + (f" ({', '.join(flags)})" if flags else "")
                heading = headings.get(column) if row > 1 else None
                if text.strip():
                    yield Piece(where, f"{heading}: {text}" if heading else text)
            if cell.comment is not None:
                comment = "\n".join(
                    part for part in (cell.comment.text, cell.comment.author) if part
                )
                yield Piece(f"{label} {cell.coordinate} comment", comment)
        lines = []
        for header_footer in (
            sheet.oddHeader,
            sheet.oddFooter,
            sheet.evenHeader,
            sheet.evenFooter,
            sheet.firstHeader,
            sheet.firstFooter,
        ):
            for part in (header_footer.left, header_footer.center, header_footer.right):
                if part.text:
                    lines.append(part.text)
        if lines:
            yield Piece(f"{label} header or footer", "\n".join(lines))
        for name, defined in sheet.defined_names.items():
            yield Piece(f"{label} defined name {name}", str(defined.attr_text or ""))

    def _names(self, workbook, location: str) -> Iterator[Piece]:
        for name, defined in workbook.defined_names.items():
            yield Piece(join(location, f"defined name {name}"), str(defined.attr_text or ""))

    def _properties(self, workbook, location: str) -> Iterator[Piece]:
        properties = workbook.properties
        lines = []
        for key in (
            "title",
            "subject",
            "creator",
            "keywords",
            "description",
            "lastModifiedBy",
            "category",
            "contentStatus",
            "identifier",
            "language",
            "version",
            "revision",
        ):
            value = getattr(properties, key, None)
            if value:
                lines.append(f"{key}: {value}")
        for prop in getattr(workbook, "custom_doc_props", None) or []:
            lines.append(f"{prop.name}: {getattr(prop, 'value', '')}")
        if lines:
            yield Piece(join(location, "document properties"), "\n".join(lines))

    # --- Office Open XML and OpenDocument ------------------------------------------------------

    def office(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        archive = malware.SafeZip(data, limits=self.limits)
        yield from self._office_parts(archive, location, xlsx=False)
        for info in archive.infos:
            if "/embeddings/" in f"/{info.filename}" or info.filename.startswith("Object "):
                content, whole = archive.read(info, keep=MAX_IN_MEMORY)
                detected = types.detect(content[:8192], filename=info.filename)
                if whole and detected is not None and nesting < MAX_NESTING:
                    yield from self.pieces(
                        content,
                        mime=detected.mime,
                        name=info.filename,
                        location=join(location, f"embedded {info.filename}"),
                        nesting=nesting + 1,
                    )

    def _office_parts(self, archive: malware.SafeZip, location: str, *, xlsx: bool):
        for info in archive.infos:
            label = _part_label(info.filename, xlsx=xlsx)
            if label is None:
                continue
            if info.file_size > MAX_XML_PART:
                self.note(location, f"The {label} is too large to check.")
                continue
            content, _ = archive.read(info, keep=MAX_XML_PART)
            try:
                text = xml_text(content)
            except (ET.ParseError, ValueError):
                self.note(location, f"The {label} could not be read.")
                continue
            if text:
                yield Piece(join(location, label), text, by_line=True)

    # --- Zip --------------------------------------------------------------------------------------

    def zip(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        archive = malware.SafeZip(data, limits=self.limits)
        names = "\n".join(info.filename for info in archive.infos)
        if names:
            yield Piece(join(location, "names of the files in the archive"), names)
        for info in archive.infos:
            where = join(location, info.filename)
            content, whole = archive.read(info, keep=MAX_IN_MEMORY)
            detected = types.detect(content[:8192], filename=info.filename)
            if detected is None:
                continue
            if not whole:
                self.note(where, "Too large to check for personal data.")
                continue
            if nesting >= MAX_NESTING:
                self.note(where, "Nested too deeply to check.")
                continue
            yield from self.pieces(
                content, mime=detected.mime, name=info.filename, location=where, nesting=nesting + 1
            )

    # --- Email ------------------------------------------------------------------------------------

    def eml(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        yield from self._message(malware.parse_message(data), location, nesting)

    def mbox(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        for number, raw in enumerate(malware.split_mbox(data), start=1):
            where = join(location, f"message {number}")
            yield from self._guarded(
                where, "The message", self._message(malware.parse_message(raw), where, nesting)
            )

    def _message(self, message, location: str, nesting: int) -> Iterator[Piece]:
        yield from self._guarded(
            location, "The message's headers", self._headers(message, location)
        )
        yield from self._parts(message, location, nesting)

    def _headers(self, message, location: str) -> Iterator[Piece]:
        lines = []
        for key in message.keys():  # noqa: SIM118 (a Message is not a dict: keys may repeat)
            if key.lower() in _ID_HEADERS or key.lower().startswith("arc-"):
                continue
            for value in message.get_all(key, []):
                try:
                    lines.append(f"{key}: {value}")
                except Exception:  # noqa: BLE001 (a malformed header: its raw text instead)
                    lines.append(f"{key}: {getattr(value, '_parse_tree', '')}")
        if lines:
            yield Piece(join(location, "email headers"), "\n".join(dict.fromkeys(lines)))

    def _parts(self, part, location: str, nesting: int) -> Iterator[Piece]:
        if part.is_multipart():
            for inner in part.iter_parts():
                yield from self._parts(inner, location, nesting)
            return
        maintype = part.get_content_maintype()
        name = str(part.get_filename() or "")
        if maintype == "message":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if hasattr(inner, "items") and nesting < MAX_NESTING:
                yield from self._message(inner, join(location, "attached message"), nesting + 1)
            return
        if part.get_content_disposition() == "attachment" or name or maintype != "text":
            where = join(location, f"attachment {name or '(no name)'}")
            if name:
                yield Piece(join(location, "attachment name"), name)
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and nesting < MAX_NESTING:
                detected = types.detect(payload[:8192], filename=name)
                if detected is not None:
                    yield from self.pieces(
                        payload, mime=detected.mime, name=name, location=where, nesting=nesting + 1
                    )
            return
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = _decode_text(payload)
        if part.get_content_subtype() == "html":
            yield Piece(join(location, "email body (HTML)"), _html_text(text), by_line=True)
        else:
            yield Piece(join(location, "email body"), text, by_line=True)

    # --- Text ---------------------------------------------------------------------------------

    def text(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        lines = _decode_text(data).splitlines()
        for start in range(0, len(lines), LINES_PER_PIECE):
            block = "\n".join(lines[start : start + LINES_PER_PIECE])
            if block.strip():
                yield Piece(location, block, by_line=True, first_line=start + 1)

    def csv(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        text = _decode_text(data)
        sample = text[:8192]
        delimiter = max((",", ";", "\t"), key=sample.count)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        headings: list[str] = []
        for number, row in enumerate(reader, start=1):
            if number == 1:
                headings = [_heading(cell) for cell in row]
            for column, value in enumerate(row, start=1):
                if not value.strip():
                    continue
                heading = headings[column - 1] if number > 1 and column <= len(headings) else ""
                yield Piece(
                    join(location, f"row {number}, column {column}"),
                    f"{heading}: {value}" if heading else value,
                )

    def rtf(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        yield Piece(join(location, "document text"), _rtf_text(data), by_line=True)

    def ole(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        """Old Word and Excel files: the runs of text in them (8-bit and UTF-16), since no
        parser for the format is installed. Numbers Excel stores as numbers are not seen."""
        runs = [m.group().decode("latin-1") for m in re.finditer(rb"[\x20-\x7e\t]{4,}", data)]
        runs += [
            m.group().decode("utf-16-le") for m in re.finditer(rb"(?:[\x20-\x7e]\x00){4,}", data)
        ]
        text = "\n".join(runs)
        if text:
            yield Piece(join(location, "text found in the file (old Office format)"), text)
        self.note(
            location,
            "Old Office files are checked from the text found in them; numbers stored as "
            "numbers are not seen. Convert to PDF to review it fully.",
        )

    def image(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        from PIL import ExifTags, Image

        with Image.open(io.BytesIO(data)) as image:
            lines = []
            for key, value in image.info.items():
                if isinstance(value, str) and value.strip():
                    lines.append(f"{key}: {value}")
            exif = image.getexif()
            tags = dict(exif.items())
            try:
                tags.update(exif.get_ifd(ExifTags.IFD.Exif).items())
            except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
                raise
            except Exception:  # noqa: BLE001
                self.note(location, "Some of the image's metadata could not be read.")
            for tag, value in tags.items():
                text = _exif_text(tag, value)
                if text:
                    lines.append(f"{ExifTags.TAGS.get(tag, tag)}: {text}")
        if lines:
            yield Piece(join(location, "image metadata"), "\n".join(lines))


# --- Helpers --------------------------------------------------------------------------------------


def _pdf_string(value) -> str:
    import pikepdf

    try:
        if isinstance(value, pikepdf.Stream):  # rich text (/RC) may be a stream
            raw = malware.stream_bytes(value, MAX_XML_PART) or b""
            return _html_text(raw.decode("utf-8", "replace"))
        if isinstance(value, pikepdf.Array):
            return "\n".join(_pdf_string(item) for item in value)
        text = str(value)
    except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
        raise
    except Exception:  # noqa: BLE001
        return ""
    return _html_text(text) if text.lstrip().startswith("<") else text


_LABEL = re.compile(r"[^\d@\n]{1,60}")


def _heading(value) -> str:
    """A first-row cell as a column heading, when it is a label ("SSN", "Date of birth"):
    it is put before the column's values to give them context. A first row of data (digits,
    addresses) is no heading."""
    text = value.strip() if isinstance(value, str) else ""
    return text if _LABEL.fullmatch(text) else ""


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e19:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _exif_text(tag: int, value) -> str:
    if isinstance(value, str):
        return value.strip("\x00 ").strip()
    if isinstance(value, bytes):
        if 0x9C9B <= tag <= 0x9C9F:  # Windows XPTitle, XPComment, XPAuthor...
            return value.decode("utf-16-le", "replace").strip("\x00 ")
        if tag == 0x9286:  # UserComment: 8 bytes naming the encoding, then the text
            encoding = "utf-16-le" if value[:8].startswith(b"UNICODE") else "latin-1"
            return value[8:].decode(encoding, "replace").strip("\x00 ")
    return ""


# Message ids and signatures: not addresses, only noise as findings.
_ID_HEADERS = {
    "message-id",
    "in-reply-to",
    "references",
    "dkim-signature",
    "domainkey-signature",
    "x-google-dkim-signature",
    "authentication-results",
    "thread-index",
}
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def _html_text(markup: str) -> str:
    return html.unescape(_TAG.sub(" ", markup))


_RTF_SKIP = re.compile(rb"\{\\\*[^{}]*\}")
_RTF_CONTROL = re.compile(rb"\\(?:'([0-9a-fA-F]{2})|u(-?\d+)\??|([a-z]+)(-?\d+)? ?|(.))")


def _rtf_plain(chunk: bytes) -> str:
    return chunk.translate(None, b"{}\r\n").decode("cp1252", "replace")


def _rtf_text(data: bytes) -> str:
    """Rough plain text of an RTF document: control words dropped, escapes decoded."""
    data = _RTF_SKIP.sub(b"", data)
    out: list[str] = []
    position = 0
    for m in _RTF_CONTROL.finditer(data):
        out.append(_rtf_plain(data[position : m.start()]))
        hexa, uni, word, _argument, symbol = m.groups()
        if hexa:
            out.append(bytes([int(hexa, 16)]).decode("cp1252", "replace"))
        elif uni:
            out.append(chr(int(uni) % 65536))
        elif word in (b"par", b"line", b"row", b"cell", b"tab"):
            out.append("\n")
        elif symbol in (b"\\", b"{", b"}"):
            out.append(symbol.decode())
        position = m.end()
    out.append(_rtf_plain(data[position:]))
    return "".join(out)


_PART_LABELS = (
    (re.compile(r"^word/document\.xml$"), "document body"),
    (re.compile(r"^word/comments[A-Za-z]*\.xml$"), "comments"),
    (re.compile(r"^word/header(\d*)\.xml$"), "header"),
    (re.compile(r"^word/footer(\d*)\.xml$"), "footer"),
    (re.compile(r"^word/footnotes\.xml$"), "footnotes"),
    (re.compile(r"^word/endnotes\.xml$"), "endnotes"),
    (re.compile(r"^word/glossary/document\.xml$"), "building blocks"),
    (re.compile(r"^ppt/slides/slide(\d+)\.xml$"), "slide"),
    (re.compile(r"^ppt/notesSlides/notesSlide(\d+)\.xml$"), "speaker notes of slide"),
    (re.compile(r"^ppt/comments/.*\.xml$"), "comments"),
    (re.compile(r"^xl/threadedComments/.*\.xml$"), "threaded comments"),
    (re.compile(r"^xl/persons/.*\.xml$"), "people who commented"),
    (re.compile(r"^xl/pivotCache/.*\.xml$"), "pivot table cache"),
    (re.compile(r"^xl/pivotTables/.*\.xml$"), "pivot table"),
    (re.compile(r"^xl/charts/.*\.xml$"), "chart"),
    (re.compile(r"^xl/externalLinks/.*\.xml$"), "cache of linked workbooks"),
    (re.compile(r"^xl/tables/.*\.xml$"), "table definitions"),
    (re.compile(r"^docProps/core\.xml$"), "document properties"),
    (re.compile(r"^docProps/app\.xml$"), "application properties"),
    (re.compile(r"^docProps/custom\.xml$"), "custom properties"),
    (re.compile(r"^content\.xml$"), "document body"),
    (re.compile(r"^styles\.xml$"), "headers and footers"),
    (re.compile(r"^meta\.xml$"), "document properties"),
)
# Parts that hold no text someone wrote, or (for XLSX) that openpyxl already read.
_SKIPPED_PARTS = re.compile(
    r"(^\[Content_Types\]\.xml$|(^|/)_rels/|\.rels$|theme/|/styles\.xml$|fontTable\.xml$"
    r"|settings\.xml$|webSettings\.xml$|numbering\.xml$|/customXml/.*Props|manifest\.xml$"
    r"|presProps\.xml$|viewProps\.xml$|tableStyles\.xml$|slideLayouts?/|slideMasters?/"
    r"|notesMasters?/|handoutMasters?/|calcChain\.xml$)"
)
_XLSX_READ = re.compile(
    r"^(xl/worksheets/|xl/sharedStrings\.xml$|xl/workbook\.xml$|xl/comments\d*\.xml$|xl/comments/"
    r"|xl/drawings/vmlDrawing|docProps/(core|app|custom)\.xml$)"
)


def _part_label(name: str, *, xlsx: bool) -> str | None:
    """What a part of an Office file is called in a finding's location, or None to skip."""
    if not name.lower().endswith(".xml") and not name.lower().endswith(".vml"):
        return None
    if _SKIPPED_PARTS.search(name) or (xlsx and _XLSX_READ.search(name)):
        return None
    for pattern, label in _PART_LABELS:
        m = pattern.match(name)
        if m:
            number = m.group(1) if m.groups() else ""
            return f"{label} {number}".strip()
    return f"part {name}"
