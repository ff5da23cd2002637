"""The searchable text layer of a redacted PDF: Tesseract reads a burned page image (and
nothing else) and writes a text-only PDF page; only its text-drawing operators are kept,
always in render mode 3 (invisible), with its font copied into the output once. OCR only
ever sees pixels that are already black under the boxes, so redacted words cannot come back
through it."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess

import pikepdf

OCR_TIMEOUT = 60  # seconds per page


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def tesseract(pgm: bytes, dpi: float, lang: str, timeout: float) -> bytes | None:
    """Tesseract's invisible-text-only PDF of one burned page image, or None on failure."""
    binary = shutil.which("tesseract")
    if binary is None:
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page; pages run in parallel
    try:
        done = subprocess.run(  # noqa: S603  # nosec B603  # fixed program, no shell, our own arguments
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


class TextLayers:
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
