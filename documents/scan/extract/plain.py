"""Text of the simpler formats: plain text, CSV (each cell with its column heading, so "SSN"
or "DOB" headings give context), RTF; old Word/Excel files as the text runs found in them
(no parser installed); images' EXIF and text metadata (Pillow). Audio and video are not
read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from celery.exceptions import SoftTimeLimitExceeded

from documents.scan.extract.base import LINES_PER_PIECE, Piece, Reader, column_heading, decode_text
from documents.scan.malware import join


class PlainReader(Reader):
    """Reads text, CSV, RTF, old Office files and image metadata."""

    # --- Text ---------------------------------------------------------------------------------

    def text(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        lines = decode_text(data).splitlines()
        for start in range(0, len(lines), LINES_PER_PIECE):
            block = "\n".join(lines[start : start + LINES_PER_PIECE])
            if block.strip():
                yield Piece(location, block, by_line=True, first_line=start + 1)

    def csv(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        text = decode_text(data)
        sample = text[:8192]
        delimiter = max((",", ";", "\t"), key=sample.count)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        headings: list[str] = []
        for number, row in enumerate(reader, start=1):
            if number == 1:
                headings = [column_heading(cell) for cell in row]
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
        from PIL import ExifTags, Image  # loaded only when an image is read

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
