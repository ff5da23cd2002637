"""Redacting images (PNG, JPEG, TIFF with all its pages): the boxes (in image pixels, ``page``
the frame) are painted black, and a new image is made from the pixels alone. Also the
metadata-free previews the boxes are drawn on."""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image, ImageSequence

from documents.redaction.boxes import Box, RedactionError, boxes_by_page, burn

MAX_IMAGE_PIXELS = 100_000_000
MAX_IMAGE_FRAMES = 500
_IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF"}

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
    by_page = boxes_by_page(boxes, frames)
    cleaned = []
    try:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > frames:
                break
            clean = _clean_pixels(frame, target)
            burn(clean, by_page.get(number, ()), 1.0)
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
