"""What could be recovered from a redacted PDF, read every way a person or a program could:
PDFium's text extraction, every object and stream with pikepdf, and Tesseract's OCR of the
rendered pages. Shared by the redaction engine tests (test_redaction) and the office
conversion tests (test_office_conversion).
"""

from __future__ import annotations

import io
import os
import re
import shutil

import pikepdf
import pypdfium2 as pdfium
import pytest

from documents.redaction import rendering

SSN_REGEX = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


def need_tesseract() -> None:
    if shutil.which("tesseract"):
        return
    reason = "Tesseract is not installed"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


# --- Extraction: everything a reader could get out of a PDF ------------------------------------


def pdfium_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        parts = []
        for page in document:
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            parts.append(textpage.get_text_bounded())
        return "\n".join(parts)
    finally:
        document.close()


def _readable(raw: bytes) -> str:
    # ASCII as is, and UTF-16 (either order) with its zero bytes dropped.
    return raw.decode("latin-1") + "\n" + raw.replace(b"\x00", b"").decode("latin-1")


def pikepdf_everything(data: bytes) -> str:
    """Every string and every decoded stream of every object, the trailer included."""
    parts: list[str] = []
    seen: set[tuple[int, int]] = set()

    def walk(obj, depth=0):
        if depth > 50:
            return
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            if obj.objgen in seen:
                return
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Stream):
            try:
                parts.append(_readable(obj.read_bytes()))
            except pikepdf.PdfError:
                parts.append(_readable(obj.read_raw_bytes()))
            walk(obj.stream_dict, depth + 1)
        elif isinstance(obj, pikepdf.Dictionary):
            for key in obj.keys():  # noqa: SIM118 (a pikepdf Dictionary)
                parts.append(str(key))
                walk(obj[key], depth + 1)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                walk(item, depth + 1)
        elif isinstance(obj, pikepdf.String):
            parts.append(_readable(bytes(obj)))
            parts.append(str(obj))
        else:
            parts.append(repr(obj))

    with pikepdf.open(io.BytesIO(data)) as pdf:
        walk(pdf.trailer)
        for obj in pdf.objects:
            walk(obj)
        for page in pdf.pages:  # text operands, decoded whatever the font's encoding
            for instruction in pikepdf.parse_content_stream(page):
                for operand in getattr(instruction, "operands", []):
                    items = operand if isinstance(operand, pikepdf.Array) else [operand]
                    for item in items:
                        if isinstance(item, pikepdf.String):
                            parts.append(_readable(bytes(item)))
        with pdf.open_metadata() as xmp:
            parts.append(str(xmp))
    return "\n".join(parts)


def ocr_of_pixels(data: bytes) -> str:
    """Tesseract's reading of the output's rendered pages (what a person could read)."""
    import subprocess

    texts = []
    for number in range(1, rendering.page_count(data) + 1):
        png = rendering.render_page(data, number, dpi=200)
        done = subprocess.run(
            ["tesseract", "stdin", "stdout"],  # noqa: S607
            input=png,
            capture_output=True,
            check=True,
            timeout=60,
        )
        texts.append(done.stdout.decode())
    return "\n".join(texts)


def recoverable(data: bytes) -> str:
    return pdfium_text(data) + "\n" + pikepdf_everything(data)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()
