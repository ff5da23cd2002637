"""The extraction: the text of a file for the personal-data scan (and the archive search),
as (location, text) pieces, from its bytes. ``Extraction`` reads a file by its type with
the reader of its family of formats, and files inside files the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from celery.exceptions import SoftTimeLimitExceeded

from documents.scan.extract.base import (
    CSV,
    DOCX,
    EML,
    MBOX,
    ODS,
    ODT,
    OLE_TYPES,
    PDF,
    PPTX,
    RTF,
    TXT,
    XLSX,
    ZIP,
    Piece,
    Unreadable,
)
from documents.scan.extract.containers import ContainerReader
from documents.scan.extract.office import OfficeReader
from documents.scan.extract.pdf import PdfReader
from documents.scan.extract.plain import PlainReader


class Extraction(PdfReader, OfficeReader, ContainerReader, PlainReader):
    """``pieces(data, mime=...)`` yields the text; ``notes`` says what could not be read."""

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

    def _reader(self, mime: str) -> Callable[..., Iterator[Piece]] | None:
        by_type = {
            PDF: self.pdf,
            XLSX: self.xlsx,
            DOCX: self.office,
            PPTX: self.office,
            ODT: self.office,
            ODS: self.office,
            ZIP: self.zip,
            EML: self.eml,
            MBOX: self.mbox,
            CSV: self.csv,
            TXT: self.text,
            RTF: self.rtf,
        }
        if mime in by_type:
            return by_type[mime]
        if mime in OLE_TYPES:
            return self.ole
        if mime.startswith("image/"):
            return self.image
        return None
