"""PDF pages through PDFium: opening (plain messages for damaged or protected files),
annotations and form fields flattened into the page (so searching, previewing and burning
all see the same thing), the geometry from PDF user space to displayed points, page sizes,
and pages rendered to images (the preview, and what the engine burns).

PDFium is not thread-safe: every call into it holds ``PDFIUM``, one process-wide lock; OCR
and image encoding run outside it (Tesseract in subprocesses, a few pages in flight).
"""

from __future__ import annotations

import io
import math
import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from documents.redaction.boxes import Box, RedactionError

# A page bigger than this many pixels at the asked resolution is rendered at a lower one
# (an A0 poster at 200 dpi is 62 megapixels): memory stays bounded whatever the page size.
MAX_PAGE_PIXELS = 40_000_000

PDFIUM = threading.RLock()


# --- Opening and geometry -----------------------------------------------------------------


def open_pdf(pdf: bytes) -> pdfium.PdfDocument:
    """Open with PDFium (caller holds the lock), turning its failures into plain messages."""
    if not isinstance(pdf, bytes | bytearray | memoryview):
        raise TypeError("pdf must be bytes")
    data = bytes(pdf)
    if b"%PDF-" not in data[:1024]:  # where PDF readers look for the header
        raise RedactionError("This file could not be read as a PDF.")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise RedactionError(
                "This PDF is protected by a password, so it can't be redacted. "
                "Ask for an unprotected copy and upload that."
            ) from None
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_SECURITY:
            raise RedactionError(
                "This PDF uses an encryption method that can't be opened here."
            ) from None
        raise RedactionError("This file could not be read as a PDF (it may be damaged).") from None
    if len(document) == 0:
        document.close()
        raise RedactionError("This PDF has no pages.")
    return document


def load_page(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    """A page with its annotations and form fields flattened into its content, so searching,
    previewing and burning all see the same thing (caller holds the lock; init_forms done)."""
    page = document[index]
    if pdfium_c.FPDFPage_GetAnnotCount(page.raw) > 0:
        # The raw call: pypdfium2's wrapper insists on a form environment, which PDFium's
        # flattening (appearance streams into content) does not need.
        status = pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY)
        if status == pdfium_c.FLATTEN_SUCCESS:
            page.close()
            page = document[index]
    return page


def open_for_pages(pdf: bytes) -> pdfium.PdfDocument:
    document = open_pdf(pdf)
    document.init_forms()
    return document


class Geometry:
    """From PDF user space (what PDFium's text boxes use) to displayed points from the
    top-left corner (what a Box uses), through the page's visible box and its rotation."""

    def __init__(self, page: pdfium.PdfPage) -> None:
        self.left, self.bottom, self.right, self.top = page.get_bbox()
        self.rotation = page.get_rotation() % 360
        self.width, self.height = page.get_size()  # displayed (already rotated)

    def point(self, x: float, y: float) -> tuple[float, float]:
        ux, uy = x - self.left, self.top - y  # unrotated, from the top-left
        w, h = self.right - self.left, self.top - self.bottom
        if self.rotation == 90:
            return h - uy, ux
        if self.rotation == 180:
            return w - ux, h - uy
        if self.rotation == 270:
            return uy, w - ux
        return ux, uy

    def box(self, page: int, rect: tuple[float, float, float, float]) -> Box | None:
        left, bottom, right, top = rect
        ax, ay = self.point(left, bottom)
        bx, by = self.point(right, top)
        x0, x1 = max(0.0, min(ax, bx)), min(self.width, max(ax, bx))
        y0, y1 = max(0.0, min(ay, by)), min(self.height, max(ay, by))
        if x1 <= x0 or y1 <= y0:
            return None  # entirely outside the visible page
        return Box(page, round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))


def page_count(pdf: bytes) -> int:
    with PDFIUM:
        document = open_pdf(pdf)
        try:
            return len(document)
        finally:
            document.close()


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's displayed (width, height) in points: the frame boxes are given in."""
    with PDFIUM:
        document = open_pdf(pdf)
        try:
            sizes = []
            for index in range(len(document)):
                page = document[index]
                sizes.append(tuple(round(v, 2) for v in page.get_size()))
                page.close()
            return sizes
        finally:
            document.close()


# --- Rendering ----------------------------------------------------------------------------


def scale_for(page: pdfium.PdfPage, dpi: float) -> float:
    width, height = page.get_size()
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > MAX_PAGE_PIXELS:
        scale *= math.sqrt(MAX_PAGE_PIXELS / pixels) * 0.995  # room for rounding up
    return scale


def render(page: pdfium.PdfPage, scale: float) -> Image.Image:
    """The page as an RGB image (caller holds the lock); the image owns its pixels."""
    bitmap = page.render(
        scale=scale,
        rev_byteorder=True,
        draw_annots=True,  # whatever was not flattened (e.g. note icons), as previewed
        may_draw_forms=False,  # forms are already flattened into the content
        fill_color=(255, 255, 255, 255),
    )
    try:
        image = bitmap.to_pil()
        return image.convert("RGB") if image.mode != "RGB" else image.copy()
    finally:
        bitmap.close()


def render_page(pdf: bytes, page: int, *, dpi: int = 100) -> bytes:
    """A PNG of one page (1-based) as the redaction preview, exactly as it will be burned."""
    if not 10 <= dpi <= 600:
        raise ValueError("dpi must be between 10 and 600")
    with PDFIUM:
        document = open_for_pages(pdf)
        try:
            if not 1 <= page <= len(document):
                raise RedactionError(f"Choose a page from 1 to {len(document)}.")
            loaded = load_page(document, page - 1)
            try:
                image = render(loaded, scale_for(loaded, dpi))
            finally:
                loaded.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()
