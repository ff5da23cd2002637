"""What every text reader of the scan shares: the limits, the file types by name, ``Piece``
(one run of text and where it was found), the ``Unreadable`` errors, ``Reader`` (its notes on
what could not be read, and the guard that turns a failing part into a note), and the
helpers more than one format uses (safe XML, HTML tags dropped, CSV/sheet headings, text of
unknown encoding)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET  # nosec B405  # parsed only by _xml_root, no DOCTYPE
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded

from documents.scan.archives import LIMITS, ArchiveLimits

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


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --- Safe XML ---------------------------------------------------------------------------------


class _NoDoctype(ET.TreeBuilder):
    """Builds the tree and refuses a DOCTYPE the moment the parser meets one (before any entity
    is declared), whatever the document's encoding: a byte search for "<!DOCTYPE" missed one in
    UTF-16 without a byte-order mark, which expat reads all the same."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ValueError("XML with a DOCTYPE is refused")


def _xml_root(raw: bytes) -> ET.Element:
    """Parse XML from an upload. Office files never need a DOCTYPE; refusing any makes
    entity-expansion ("billion laughs") and external-entity attacks impossible: entities can
    only be declared inside one."""
    parser = ET.XMLParser(target=_NoDoctype())  # noqa: S314  # nosec B314  # no DOCTYPE, no entity
    parser.feed(raw)
    return parser.close()


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


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def html_text(markup: str) -> str:
    return html.unescape(_TAG.sub(" ", markup))


_LABEL = re.compile(r"[^\d@\n]{1,60}")


def column_heading(value) -> str:
    """A first-row cell as a column heading, when it is a label ("SSN", "Date of birth"):
    it is put before the column's values to give them context. A first row of data (digits,
    addresses) is no heading."""
    text = value.strip() if isinstance(value, str) else ""
    return text if _LABEL.fullmatch(text) else ""


class Reader(ABC):
    """The state of one extraction: the limits of the archives it opens, and ``notes``, what
    could not be read. The readers of each family of formats (pdf, office, containers, plain)
    build on it; extraction.Extraction puts them together and dispatches by type."""

    def __init__(self, limits: ArchiveLimits = LIMITS):
        self.limits = limits
        self.notes: list[str] = []

    def note(self, location: str, message: str) -> None:
        text = f"{location}: {message}" if location else message
        if text not in self.notes:
            self.notes.append(text)

    @abstractmethod
    def pieces(
        self, data: bytes, *, mime: str, name: str = "", location: str = "", nesting: int = 0
    ) -> Iterator[Piece]:
        """The pieces of one file, read by its type (files inside files come back here).
        Declared here for the format readers, which call it for the files they carry;
        extraction.Extraction, which combines them, implements it."""

    def _guarded(self, location: str, what: str, pieces: Iterator[Piece]) -> Iterator[Piece]:
        """Pieces of one part of a file: if reading it fails, a note, and the rest goes on."""
        try:
            yield from pieces
        except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
            raise
        except Exception as error:  # noqa: BLE001 (any parser error: the rest is still read)
            self.note(location, f"{what} could not be read ({type(error).__name__}).")
