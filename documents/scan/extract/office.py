"""Text of Office files:

- XLSX: every sheet, hidden and very hidden ones too, every cell with its row/column hidden
  or its number format hiding it said in the location, formulas as written, cell comments,
  defined names, headers and footers, document and custom properties (openpyxl); and the
  text of the workbook's other parts that openpyxl doesn't read (pivot caches, chart
  caches, threaded comments, external link caches).
- DOCX, PPTX, ODT, ODS: the text of every XML part - body, tracked deletions and hidden
  runs, comments, headers and footers, foot/endnotes, slides and speaker notes, document
  and custom properties - and the embedded documents they carry.

Every one is a zip, opened within the archive limits (documents.scan.archives).
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET  # nosec B405  # only for ParseError: base._xml_root parses
from collections.abc import Iterator

from celery.exceptions import SoftTimeLimitExceeded

from documents import types
from documents.scan.archives import SafeZip
from documents.scan.extract.base import (
    MAX_IN_MEMORY,
    MAX_NESTING,
    MAX_SPREADSHEET_XML,
    MAX_XML_PART,
    MIB,
    Piece,
    Reader,
    Unreadable,
    column_heading,
    xml_text,
)
from documents.scan.malware import join


class OfficeReader(Reader):
    """Reads spreadsheets (openpyxl, then their other XML parts) and other Office files."""

    # --- Spreadsheets ---------------------------------------------------------------------------

    def xlsx(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        import openpyxl  # heavy: loaded only when a spreadsheet is read

        archive = SafeZip(data, limits=self.limits)
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
        headings = {column: column_heading(cell.value) for (row, column), cell in cells if row == 1}
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
        archive = SafeZip(data, limits=self.limits)
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

    def _office_parts(self, archive: SafeZip, location: str, *, xlsx: bool):
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


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e19:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


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
