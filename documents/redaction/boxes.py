"""What the redaction engine works with: ``Box`` (a rectangle to black out), ``Match`` (one
occurrence of a search term or pattern), ``RedactionError``; and what every output shares:
boxes checked against the page count, boxes burned into pixels, and the per-page summary.

Coordinates: a ``Box`` is in PDF points (1/72 inch) from the top-left corner of the page as
it is displayed (after its crop box and /Rotate), so ``x * dpi / 72`` is the pixel column in
``rendering.render_page(..., dpi=dpi)``. ``rendering.page_sizes`` gives the displayed sizes,
and the redacted PDF has exactly these sizes, unrotated. For images (``images.redact_image``)
a box is in image pixels and ``page`` is the frame (1 for PNG and JPEG; the TIFF page).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw


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


def boxes_by_page(boxes: Iterable[Box], pages: int) -> dict[int, list[Box]]:
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


# --- Burning ---------------------------------------------------------------------------------


def burn(image: Image.Image, boxes: Iterable[Box], scale: float, *, white: bool = False) -> None:
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
