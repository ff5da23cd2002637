"""The redaction engine: pure functions over bytes (no models, no database).

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

Coordinates: a ``Box`` is in PDF points (1/72 inch) from the top-left corner of the page as
it is displayed (after its crop box and /Rotate), so ``x * dpi / 72`` is the pixel column in
``render_page(..., dpi=dpi)``. ``page_sizes`` gives the displayed sizes, and the redacted PDF
has exactly these sizes, unrotated. For images (``redact_image``) a box is in image pixels
and ``page`` is the frame (1 for PNG and JPEG; the TIFF page).

PDFium is not thread-safe: every call into it here holds one process-wide lock; OCR and image
encoding run outside it (Tesseract in subprocesses, a few pages in flight).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import shutil
import struct
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageChops, ImageDraw, ImageSequence

__all__ = [
    "Box",
    "Match",
    "RedactionError",
    "RedactionResult",
    "find_pattern_boxes",
    "find_patterns",
    "find_text",
    "find_text_boxes",
    "image_preview",
    "image_size",
    "ocr_available",
    "page_count",
    "page_sizes",
    "redact",
    "redact_image",
    "redact_pdf",
    "render_page",
    "summarise",
]

DEFAULT_DPI = 200
MAX_PAGES = 2000
# A page bigger than this many pixels at the asked resolution is rendered at a lower one
# (an A0 poster at 200 dpi is 62 megapixels): memory stays bounded whatever the page size.
MAX_PAGE_PIXELS = 40_000_000
MAX_IMAGE_PIXELS = 100_000_000
MAX_IMAGE_FRAMES = 500
OCR_TIMEOUT = 60  # seconds per page
JPEG_QUALITY = 80

_PDFIUM = threading.RLock()
_IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF"}


class RedactionError(Exception):
    """The input can't be redacted; the message is plain and safe to show staff."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a page (1-based) in points from the displayed page's top-left corner
    (for images: pixels, and ``page`` the frame). Corners may be given in any order."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        values = (self.x0, self.y0, self.x1, self.y1)
        if not isinstance(self.page, int) or self.page < 1:
            raise ValueError("A box's page is a number from 1.")
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError("A box's corners are finite numbers.")
        x0, x1 = sorted((float(self.x0), float(self.x1)))
        y0, y1 = sorted((float(self.y0), float(self.y1)))
        object.__setattr__(self, "x0", x0)
        object.__setattr__(self, "x1", x1)
        object.__setattr__(self, "y0", y0)
        object.__setattr__(self, "y1", y1)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Match:
    """One occurrence of a search term or pattern: its page, kind ("text" for a search
    term) and the boxes covering it (more than one when it wraps onto another line)."""

    page: int
    kind: str
    boxes: tuple[Box, ...]


@dataclass
class RedactionResult:
    pdf: bytes
    pages: int
    dpi: int
    ocr_pages: list[int] = field(default_factory=list)  # pages with a restored text layer
    ocr_failed: list[int] = field(default_factory=list)  # OCR ran but failed or timed out
    ocr_unavailable: bool = False  # OCR was asked for but Tesseract is not installed
    seconds: float = 0.0


# --- Opening and geometry -----------------------------------------------------------------


def _open(pdf: bytes) -> pdfium.PdfDocument:
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


def _load_page(document: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
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


def _open_for_pages(pdf: bytes) -> pdfium.PdfDocument:
    document = _open(pdf)
    document.init_forms()
    return document


class _Geometry:
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
    with _PDFIUM:
        document = _open(pdf)
        try:
            return len(document)
        finally:
            document.close()


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's displayed (width, height) in points: the frame boxes are given in."""
    with _PDFIUM:
        document = _open(pdf)
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


def _scale_for(page: pdfium.PdfPage, dpi: float) -> float:
    width, height = page.get_size()
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > MAX_PAGE_PIXELS:
        scale *= math.sqrt(MAX_PAGE_PIXELS / pixels) * 0.995  # room for rounding up
    return scale


def _render(page: pdfium.PdfPage, scale: float) -> Image.Image:
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
    with _PDFIUM:
        document = _open_for_pages(pdf)
        try:
            if not 1 <= page <= len(document):
                raise RedactionError(f"Choose a page from 1 to {len(document)}.")
            loaded = _load_page(document, page - 1)
            try:
                image = _render(loaded, _scale_for(loaded, dpi))
            finally:
                loaded.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


# --- Finding text ---------------------------------------------------------------------------


def _page_text(page: pdfium.PdfPage) -> tuple[str, list[tuple[float, float, float, float] | None]]:
    """The page's text, one character per PDFium character (so a text offset is a character
    index), with each character's box in user space (None for generated spaces and breaks).
    Invisible text (render mode 3) is included: it is text a reader could copy."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float] | None] = []
        for index in range(count):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
            chars.append(chr(code) if 0 < code < 0x110000 else "\ufffd")
            if pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1:
                boxes.append(None)
                continue
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
            if right - left <= 0 or top - bottom <= 0:
                left, bottom, right, top = textpage.get_charbox(index)
            boxes.append((left, bottom, right, top) if right > left and top > bottom else None)
        return "".join(chars), boxes
    finally:
        textpage.close()


def _merge(rects: list[tuple[float, float, float, float]]) -> list[tuple[float, ...]]:
    """Character boxes (user space) of one match merged into one rectangle per line (lines
    running across or down the page), each padded on every side by 15% of the line's
    height (at least 1 pt): enough for the descenders of a scan under an OCR layer, whose
    invisible characters rarely match the ink exactly, and less than the gap to the
    neighbouring lines at ordinary line spacing."""
    runs: list[list[float]] = []
    for left, bottom, right, top in rects:
        if runs:
            run = runs[-1]
            rl, rb, rr, rt = run
            height, width = min(rt - rb, top - bottom), min(rr - rl, right - left)
            across = (min(rt, top) - max(rb, bottom)) >= 0.5 * height and (
                left - rr <= 1.2 * max(rt - rb, top - bottom) and right >= rl - 0.5 * height
            )
            down = (min(rr, right) - max(rl, left)) >= 0.5 * width and (
                max(bottom - rt, rb - top) <= 1.2 * max(rr - rl, right - left)
            )
            if across or down:
                run[:] = [min(rl, left), min(rb, bottom), max(rr, right), max(rt, top)]
                continue
        runs.append([left, bottom, right, top])
    padded = []
    for left, bottom, right, top in runs:
        size = min(right - left, top - bottom)  # the line's height, whichever way it runs
        pad_x = pad_y = max(1.0, 0.15 * size)
        padded.append((left - pad_x, bottom - pad_y, right + pad_x, top + pad_y))
    return padded


def _matches(pdf: bytes, spans: Callable[[str], Iterable[tuple[int, int, str]]]) -> list[Match]:
    found: list[Match] = []
    with _PDFIUM:
        document = _open_for_pages(pdf)
        try:
            for index in range(len(document)):
                page = _load_page(document, index)
                try:
                    geometry = _Geometry(page)
                    text, char_boxes = _page_text(page)
                finally:
                    page.close()
                for start, end, kind in spans(text):
                    if not (isinstance(start, int) and isinstance(end, int)):
                        raise TypeError("find() must return (start, end, kind) with int offsets")
                    start, end = max(0, start), min(len(text), end)
                    rects = [b for b in char_boxes[start:end] if b is not None]
                    boxes = [geometry.box(index + 1, r) for r in _merge(rects)] if rects else []
                    boxes = [b for b in boxes if b is not None]
                    if boxes:
                        found.append(Match(index + 1, str(kind), tuple(boxes)))
        finally:
            document.close()
    return found


def _term_pattern(term: str, *, whole_word: bool) -> re.Pattern[str]:
    words = term.split()
    if not words:
        raise RedactionError("Type a word or phrase to search for.")
    if len(term) > 500:
        raise RedactionError("The search term is too long.")
    body = r"\s+".join(re.escape(word) for word in words)  # any spacing or a line break
    if whole_word:
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body, re.IGNORECASE)


def find_text(pdf: bytes, term: str, *, whole_word: bool = False) -> list[Match]:
    """Every occurrence of ``term`` on every page, ignoring case; the words of a phrase may
    be separated by any spacing or a line break. Text in annotations and form fields counts
    (they are flattened first), and so does invisible text."""
    pattern = _term_pattern(term, whole_word=whole_word)
    return _matches(
        pdf, lambda text: ((m.start(), m.end(), "text") for m in pattern.finditer(text))
    )


def find_text_boxes(pdf: bytes, term: str, *, whole_word: bool = False) -> list[Box]:
    """Boxes over every occurrence of a search term, for "redact all" (see find_text)."""
    return [box for match in find_text(pdf, term, whole_word=whole_word) for box in match.boxes]


Finder = (
    Callable[[str], Iterable[tuple[int, int, str]]]
    | Mapping[str, "re.Pattern[str] | str"]
    | Sequence["re.Pattern[str]"]
)


def _finder(find: Finder) -> Callable[[str], Iterable[tuple[int, int, str]]]:
    if callable(find):
        return find
    if isinstance(find, Mapping):
        compiled = {kind: re.compile(p) if isinstance(p, str) else p for kind, p in find.items()}
    else:
        listed = [re.compile(p) if isinstance(p, str) else p for p in find]

        def by_list(text: str):
            for pattern in listed:
                for m in pattern.finditer(text):
                    yield m.start(), m.end(), "pattern"

        return by_list

    def by_mapping(text: str):
        for kind, pattern in compiled.items():
            for m in pattern.finditer(text):
                yield m.start(), m.end(), kind

    return by_mapping


def find_patterns(pdf: bytes, find: Finder) -> list[Match]:
    """Matches of personal-data patterns in each page's text. ``find`` is a callable
    ``find(text) -> [(start, end, kind), ...]`` (offsets into the page's text), a mapping
    ``{kind: regex}``, or a list of regexes (kind "pattern")."""
    return _matches(pdf, _finder(find))


def find_pattern_boxes(pdf: bytes, find: Finder) -> list[tuple[Box, str]]:
    """(box, kind) for every line of every match of ``find`` (see ``find_patterns``)."""
    return [(box, match.kind) for match in find_patterns(pdf, find) for box in match.boxes]


# --- Burning ---------------------------------------------------------------------------------


def _burn(image: Image.Image, boxes: Iterable[Box], scale: float, *, white: bool = False) -> None:
    """Paint the boxes (opaque black, or white for the copy OCR reads) into the pixels."""
    level = 255 if white else 0
    fill = {"L": level, "RGB": (level,) * 3, "RGBA": (level, level, level, 255)}[image.mode]
    draw = ImageDraw.Draw(image)
    for box in boxes:
        # Outward to whole pixels: a partly covered pixel is covered.
        x0, y0 = math.floor(box.x0 * scale), math.floor(box.y0 * scale)
        x1, y1 = math.ceil(box.x1 * scale), math.ceil(box.y1 * scale)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(image.width, x1), min(image.height, y1)
        if x1 > x0 and y1 > y0:
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)


def _is_grey(image: Image.Image) -> bool:
    red, green, blue = image.split()
    return (
        ImageChops.difference(red, green).getbbox() is None
        and ImageChops.difference(green, blue).getbbox() is None
    )


def _png_rows(image: Image.Image, **options) -> bytes:
    """The zlib stream of a PNG encoding (its IDAT chunks): PNG-filtered rows, which a PDF
    reads as FlateDecode with a PNG predictor. Pillow does the filtering in C."""
    png = io.BytesIO()
    image.save(png, "PNG", compress_level=6, **options)
    data, position, rows = png.getvalue(), 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        if data[position + 4 : position + 8] == b"IDAT":
            rows.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(rows)


def _flate(rows: bytes, image: Image.Image, colours: int, bits: int) -> tuple[bytes, dict]:
    return rows, {
        "Filter": pikepdf.Name.FlateDecode,
        "DecodeParms": pikepdf.Dictionary(
            Predictor=15, Colors=colours, BitsPerComponent=bits, Columns=image.width
        ),
        "ColorSpace": pikepdf.Name.DeviceGray if colours == 1 else pikepdf.Name.DeviceRGB,
        "BitsPerComponent": bits,
    }


def _encode(image: Image.Image, *, bilevel: bool = False) -> tuple[bytes, dict]:
    """The page image as a PDF image stream. Grey pages: 16 grey levels, 4 bits a pixel,
    Flate (text stays crisp, a third smaller than 8 bits); colour pages: 8 bits a channel,
    Flate. JPEG instead when it is clearly smaller (photos, scans). ``bilevel``: black and
    white, 1 bit a pixel (smallest; greys and photos suffer)."""
    if bilevel:
        grey = image if image.mode == "L" else image.convert("L")
        black_white = grey.point(lambda v: 255 if v >= 160 else 0).convert("1", dither=None)
        return _flate(_png_rows(black_white), black_white, 1, 1)
    if image.mode == "L":
        levels = image.point(lambda v: (v * 15 + 127) // 255)  # 0..15
        indexed = Image.frombytes("P", image.size, levels.tobytes())
        indexed.putpalette([v for i in range(16) for v in (i * 17,) * 3])  # index i = grey i
        lossless = _flate(_png_rows(indexed, bits=4), image, 1, 4)
    else:
        lossless = _flate(_png_rows(image), image, 3, 8)
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=JPEG_QUALITY)
    if len(lossless[0]) <= 1.25 * jpeg.tell():
        return lossless
    colour = pikepdf.Name.DeviceGray if image.mode == "L" else pikepdf.Name.DeviceRGB
    return jpeg.getvalue(), {
        "Filter": pikepdf.Name.DCTDecode,
        "ColorSpace": colour,
        "BitsPerComponent": 8,
    }


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def _tesseract(pgm: bytes, dpi: float, lang: str, timeout: float) -> bytes | None:
    """Tesseract's invisible-text-only PDF of one burned page image, or None on failure."""
    binary = shutil.which("tesseract")
    if binary is None:
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page; pages run in parallel
    try:
        done = subprocess.run(  # noqa: S603 (fixed program, no shell, our own arguments)
            [
                binary,
                "stdin",
                "stdout",
                "-l",
                lang,
                "--dpi",
                str(round(dpi)),
                "-c",
                "textonly_pdf=1",
                "pdf",
            ],
            input=pgm,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        return None
    return done.stdout


_TEXT_OPERATORS = frozenset(
    {
        "BT",
        "ET",
        "Tf",
        "Tm",
        "Td",
        "TD",
        "T*",
        "TJ",
        "Tj",
        "Tz",
        "TL",
        "Tc",
        "Tw",
        "Ts",
        "q",
        "Q",
        "cm",
        "'",
        '"',
    }
)


def _signature(obj, depth: int = 0) -> bytes:
    """A digest-able description of a font object (to store Tesseract's one font once)."""
    if depth > 8:
        return b"..."
    if isinstance(obj, pikepdf.Stream):
        details = obj.stream_dict
        items = sorted((str(k), _signature(details[k], depth + 1)) for k in details)
        return b"S" + repr(items).encode() + hashlib.sha256(obj.read_bytes()).digest()
    if isinstance(obj, pikepdf.Dictionary):
        return repr(sorted((str(k), _signature(obj[k], depth + 1)) for k in obj)).encode()
    if isinstance(obj, pikepdf.Array):
        return repr([_signature(v, depth + 1) for v in obj]).encode()
    return repr(obj).encode()


class _TextLayers:
    """Turns Tesseract's text-only pages into content for our pages: only text operators,
    always invisible, with its font copied into the output once."""

    def __init__(self, out: pikepdf.Pdf) -> None:
        self.out = out
        self.fonts: dict[bytes, pikepdf.Object] = {}
        self.sources: list[pikepdf.Pdf] = []  # copied streams are read when the output is saved

    def layer(self, data: bytes, width: float, height: float) -> tuple[bytes, dict] | None:
        try:
            source = pikepdf.open(io.BytesIO(data))
        except pikepdf.PdfError:
            return None
        if len(source.pages) != 1:
            return None
        page = source.pages[0]
        _, _, tess_width, tess_height = (float(v) for v in page.mediabox)
        instructions = []
        font_names: set[str] = set()
        for instruction in pikepdf.parse_content_stream(page):
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                continue
            operator = str(instruction.operator)
            if operator not in _TEXT_OPERATORS:
                continue  # drops Tr (set again below), Do, paths, colours, inline images
            instructions.append(instruction)
            if operator == "BT":
                instructions.append(pikepdf.ContentStreamInstruction([3], pikepdf.Operator("Tr")))
            if operator == "Tf":
                font_names.add(str(instruction.operands[0]))
        if not font_names:
            return None  # nothing recognised on the page
        resources = page.get("/Resources", pikepdf.Dictionary()).get("/Font", pikepdf.Dictionary())
        fonts = {}
        for name in font_names:
            if name not in resources:
                return None
            signature = hashlib.sha256(_signature(resources[name])).digest()
            if signature not in self.fonts:
                self.fonts[signature] = self.out.copy_foreign(resources[name])
                self.sources.append(source)
            fonts[name] = self.fonts[signature]
        fit = f"q {width / tess_width:.6f} 0 0 {height / tess_height:.6f} 0 0 cm\n".encode()
        return fit + pikepdf.unparse_content_stream(instructions) + b"\nQ\n", fonts


@dataclass
class _Pending:
    index: int
    width: float
    height: float
    image: tuple[bytes, dict]
    size: tuple[int, int]
    ocr: Future | None


def _boxes_by_page(boxes: Iterable[Box], pages: int) -> dict[int, list[Box]]:
    by_page: dict[int, list[Box]] = {}
    for box in boxes:
        if not isinstance(box, Box):
            box = Box(*box)
        if box.page > pages:
            raise RedactionError(
                f"A redaction is on page {box.page}, but the document has {pages} pages."
            )
        by_page.setdefault(box.page, []).append(box)
    return by_page


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
    with _PDFIUM:
        document = _open_for_pages(pdf)
        total = len(document)
    try:
        if total > max_pages:
            raise RedactionError(
                f"This PDF has {total} pages; up to {max_pages} can be redacted at once. "
                "Split it and redact the parts."
            )
        by_page = _boxes_by_page(boxes, total)
        run_ocr = ocr and ocr_available()
        result = RedactionResult(pdf=b"", pages=total, dpi=dpi, ocr_unavailable=ocr and not run_ocr)
        workers = max(1, ocr_workers or min(2, os.cpu_count() or 1))
        out = pikepdf.new()
        layers = _TextLayers(out)
        pending: deque[_Pending] = deque()
        with ThreadPoolExecutor(max_workers=workers) if run_ocr else _NoPool() as pool:
            for index in range(total):
                with _PDFIUM:
                    page = _load_page(document, index)
                    try:
                        width, height = page.get_size()
                        scale = _scale_for(page, dpi)
                        image = _render(page, scale)
                    finally:
                        page.close()
                page_boxes = by_page.get(index + 1, ())
                _burn(image, page_boxes, scale)
                if _is_grey(image):
                    image = image.convert("L")
                future = None
                if run_ocr:
                    # OCR reads a copy of the burned page with the boxes white, not black:
                    # the same pixels are gone, and black bars are not misread as letters.
                    grey = image.copy() if image.mode == "L" else image.convert("L")
                    _burn(grey, page_boxes, scale, white=True)
                    pgm = io.BytesIO()
                    grey.save(pgm, "PPM")
                    future = pool.submit(
                        _tesseract, pgm.getvalue(), scale * 72, ocr_lang, ocr_timeout
                    )
                pending.append(
                    _Pending(
                        index, width, height, _encode(image, bilevel=bilevel), image.size, future
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
        with _PDFIUM:
            document.close()


class _NoPool:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _add_page(out: pikepdf.Pdf, layers: _TextLayers, item: _Pending, result) -> None:
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


# --- Images ---------------------------------------------------------------------------------

_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _open_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise RedactionError("This image is too large to redact here.")
        image.load()
    except RedactionError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise RedactionError("This file could not be read as an image.") from None
    return image


def _clean_pixels(frame: Image.Image, target: str) -> Image.Image:
    """A new image made from the frame's pixels only (no EXIF, XMP, ICC, comments...)."""
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        mode = "RGBA"
    elif frame.mode in ("L", "1", "I;16", "I", "F"):
        mode = "L"
    else:
        mode = "RGB"
    if target == "JPEG" and mode == "RGBA":
        flat = Image.new("RGB", frame.size, (255, 255, 255))
        flat.paste(frame.convert("RGBA"), mask=frame.convert("RGBA").getchannel("A"))
        pixels = flat
        mode = "RGB"
    else:
        pixels = frame.convert(mode)
    return Image.frombytes(mode, pixels.size, pixels.tobytes())


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels of an image's first frame: the frame boxes are given in."""
    return _open_image(data).size


def image_preview(data: bytes, *, page: int = 1, max_side: int = 1600) -> bytes:
    """A metadata-free PNG of one frame of an image, in its stored orientation (the frame
    boxes are drawn in), scaled down to ``max_side`` pixels at most."""
    image = _open_image(data)
    frames = getattr(image, "n_frames", 1)
    if not 1 <= page <= frames:
        raise RedactionError(f"Choose a page from 1 to {frames}.")
    image.seek(page - 1)
    clean = _clean_pixels(image, "PNG")
    clean.thumbnail((max_side, max_side))
    out = io.BytesIO()
    clean.save(out, "PNG")
    return out.getvalue()


def redact_image(data: bytes, boxes: Iterable[Box], *, mime: str) -> bytes:
    """PNG, JPEG or TIFF with the boxes (image pixels; page = frame) painted black,
    re-encoded from the pixels alone: no EXIF, GPS, XMP, IPTC, ICC profile or comments. The
    EXIF orientation is applied to the pixels after painting, so the image still displays
    the way up it did (a portrait photo stored sideways comes out upright)."""
    target = _IMAGE_FORMATS.get(mime)
    if target is None:
        raise RedactionError("Only PNG, JPEG and TIFF images can be redacted.")
    image = _open_image(data)
    orientation = 1
    try:
        orientation = int(image.getexif().get(0x0112, 1))
    except (ValueError, TypeError, OSError):
        orientation = 1
    frames = getattr(image, "n_frames", 1) if target == "TIFF" else 1
    if frames > MAX_IMAGE_FRAMES:
        raise RedactionError(
            f"This image has {frames} pages; up to {MAX_IMAGE_FRAMES} can be redacted."
        )
    by_page = _boxes_by_page(boxes, frames)
    cleaned = []
    try:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > frames:
                break
            clean = _clean_pixels(frame, target)
            _burn(clean, by_page.get(number, ()), 1.0)
            if orientation in _ORIENTATION:
                clean = clean.transpose(_ORIENTATION[orientation])
            cleaned.append(clean)
    except (OSError, ValueError):
        raise RedactionError("This image could not be read in full.") from None
    out = io.BytesIO()
    if target == "JPEG":
        cleaned[0].save(out, "JPEG", quality=90)
    elif target == "PNG":
        cleaned[0].save(out, "PNG", optimize=False)
    else:
        cleaned[0].save(
            out, "TIFF", compression="tiff_deflate", save_all=True, append_images=cleaned[1:]
        )
    return out.getvalue()


# --- The log ---------------------------------------------------------------------------------


def summarise(boxes: Iterable[Box]) -> list[dict]:
    """Per page: how many boxes and how much of it they cover (in square points), for a
    redaction log or a confirmation screen."""
    pages: dict[int, dict] = {}
    for box in boxes:
        entry = pages.setdefault(box.page, {"page": box.page, "boxes": 0, "area": 0.0})
        entry["boxes"] += 1
        entry["area"] += round(box.width * box.height, 1)
    return [pages[number] for number in sorted(pages)]
