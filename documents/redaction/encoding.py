"""A burned page image as a PDF image stream, as small as it stays readable: 4-bit grey or
8-bit colour Flate (PNG-filtered rows), JPEG when clearly smaller, or 1-bit black and
white."""

from __future__ import annotations

import io
import struct

import pikepdf
from PIL import Image, ImageChops

JPEG_QUALITY = 80


def is_grey(image: Image.Image) -> bool:
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


def encode(image: Image.Image, *, bilevel: bool = False) -> tuple[bytes, dict]:
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
