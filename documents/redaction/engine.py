"""The redaction engine (this module and its neighbours in documents.redaction): pure
functions over bytes, no models, no database.

How a redacted PDF is made (``redact_pdf``): every page, with or without boxes, is rendered
to an image by PDFium (annotations and form fields flattened first, exactly as the preview
shows them), the boxes are painted solid black into the pixels, and a brand-new PDF is built
from those images alone. Nothing of the original file is copied: no text, fonts, vector
graphics, images, annotations, form fields, attachments, JavaScript, outlines, metadata
(Info or XMP) or hidden layers. Invisible text (render mode 3, an old OCR layer), text hidden
under an image, white-on-white text and text outside the crop box are never painted, so they
are gone too, with or without a box over them.

Then, when asked and when Tesseract is installed, a searchable text layer is restored: each
burned page image (and nothing else) is OCRed, and Tesseract's invisible text is placed under
the image. OCR only ever sees pixels that are already black under the boxes, so redacted
words cannot come back through it. Only text-drawing operators are kept from Tesseract's
output, always in render mode 3 (invisible).
"""

from __future__ import annotations

import io
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pikepdf

from documents.redaction.boxes import Box, RedactionError, boxes_by_page, burn
from documents.redaction.encoding import encode, is_grey
from documents.redaction.ocr import OCR_TIMEOUT, TextLayers, ocr_available, tesseract
from documents.redaction.rendering import (
    PDFIUM,
    load_page,
    open_for_pages,
    render,
    scale_for,
)

DEFAULT_DPI = 200
MAX_PAGES = 2000


@dataclass
class RedactionResult:
    pdf: bytes
    pages: int
    dpi: int
    ocr_pages: list[int] = field(default_factory=list)  # pages with a restored text layer
    ocr_failed: list[int] = field(default_factory=list)  # OCR ran but failed or timed out
    ocr_unavailable: bool = False  # OCR was asked for but Tesseract is not installed
    seconds: float = 0.0


@dataclass
class _Pending:
    index: int
    width: float
    height: float
    image: tuple[bytes, dict]
    size: tuple[int, int]
    ocr: Future | None


def redact(
    pdf: bytes,
    boxes: Iterable[Box],
    *,
    dpi: int = DEFAULT_DPI,
    ocr: bool = True,
    ocr_lang: str = "eng",
    ocr_timeout: float = OCR_TIMEOUT,
    ocr_workers: int | None = None,
    max_pages: int = MAX_PAGES,
    bilevel: bool = False,
    on_page: Callable[[int, int], None] | None = None,
) -> RedactionResult:
    """``redact_pdf`` with a report: which pages got a text layer, which OCR failed, time.
    ``on_page(done, total)`` is called after each page is rendered (progress). ``bilevel``
    stores black-and-white pages (a quarter of the size; for text-only documents)."""
    if not 50 <= dpi <= 600:
        raise ValueError("dpi must be between 50 and 600")
    if not re.fullmatch(r"[A-Za-z_]{3,}(\+[A-Za-z_]{3,})*", ocr_lang):
        raise ValueError("ocr_lang is a Tesseract language code such as 'eng' or 'eng+spa'")
    started = time.perf_counter()
    with PDFIUM:
        document = open_for_pages(pdf)
        total = len(document)
    try:
        if total > max_pages:
            raise RedactionError(
                f"This PDF has {total} pages; up to {max_pages} can be redacted at once. "
                "Split it and redact the parts."
            )
        by_page = boxes_by_page(boxes, total)
        run_ocr = ocr and ocr_available()
        result = RedactionResult(pdf=b"", pages=total, dpi=dpi, ocr_unavailable=ocr and not run_ocr)
        workers = max(1, ocr_workers or min(2, os.cpu_count() or 1))
        out = pikepdf.new()
        layers = TextLayers(out)
        pending: deque[_Pending] = deque()
        with ThreadPoolExecutor(max_workers=workers) if run_ocr else _NoPool() as pool:
            for index in range(total):
                with PDFIUM:
                    page = load_page(document, index)
                    try:
                        width, height = page.get_size()
                        scale = scale_for(page, dpi)
                        image = render(page, scale)
                    finally:
                        page.close()
                page_boxes = by_page.get(index + 1, ())
                burn(image, page_boxes, scale)
                if is_grey(image):
                    image = image.convert("L")
                future = None
                if run_ocr:
                    # OCR reads a copy of the burned page with the boxes white, not black:
                    # the same pixels are gone, and black bars are not misread as letters.
                    grey = image.copy() if image.mode == "L" else image.convert("L")
                    burn(grey, page_boxes, scale, white=True)
                    pgm = io.BytesIO()
                    grey.save(pgm, "PPM")
                    future = pool.submit(
                        tesseract, pgm.getvalue(), scale * 72, ocr_lang, ocr_timeout
                    )
                pending.append(
                    _Pending(
                        index, width, height, encode(image, bilevel=bilevel), image.size, future
                    )
                )
                del image
                while len(pending) > workers:
                    _add_page(out, layers, pending.popleft(), result)
                if on_page is not None:
                    on_page(index + 1, total)
            while pending:
                _add_page(out, layers, pending.popleft(), result)
        buffer = io.BytesIO()
        out.save(
            buffer,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            deterministic_id=True,
        )
        result.pdf = buffer.getvalue()
        result.seconds = time.perf_counter() - started
        return result
    finally:
        with PDFIUM:
            document.close()


class _NoPool:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _add_page(out: pikepdf.Pdf, layers: TextLayers, item: _Pending, result) -> None:
    data, encoding = item.image
    image = pikepdf.Stream(
        out,
        data,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=item.size[0],
        Height=item.size[1],
        **encoding,
    )
    width, height = item.width, item.height
    content = b""
    fonts: dict = {}
    if item.ocr is not None:
        tess = item.ocr.result()
        layer = layers.layer(tess, width, height) if tess else None
        if tess is None:
            result.ocr_failed.append(item.index + 1)
        elif layer is not None:
            content, fonts = layer
            result.ocr_pages.append(item.index + 1)
    # The invisible text first, the page image over it.
    content += f"q {width:.4f} 0 0 {height:.4f} 0 0 cm /Im0 Do Q\n".encode()
    resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    if fonts:
        resources.Font = pikepdf.Dictionary({f"/{k.lstrip('/')}": v for k, v in fonts.items()})
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, round(width, 4), round(height, 4)],
        Resources=resources,
        Contents=pikepdf.Stream(out, content),
    )
    out.pages.append(pikepdf.Page(page))


def redact_pdf(
    pdf: bytes,
    boxes: Iterable[Box],
    *,
    dpi: int = DEFAULT_DPI,
    ocr: bool = True,
    **options,
) -> bytes:
    """A new PDF of the burned page images (every page rasterised, boxes painted black),
    with an invisible OCR text layer when ``ocr`` and Tesseract is installed. See the module
    docstring for what survives (nothing but the pixels)."""
    return redact(pdf, boxes, dpi=dpi, ocr=ocr, **options).pdf
