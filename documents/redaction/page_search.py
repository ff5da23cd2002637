"""Searching PDF pages, as boxes to redact: every occurrence of a search term ("redact
all"), or every match of the personal-data patterns. Text in annotations and form fields
counts (they are flattened first), and so does invisible text: it is text a reader could
copy."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from documents.redaction.boxes import Box, Match, RedactionError
from documents.redaction.rendering import PDFIUM, Geometry, load_page, open_for_pages


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
    with PDFIUM:
        document = open_for_pages(pdf)
        try:
            for index in range(len(document)):
                page = load_page(document, index)
                try:
                    geometry = Geometry(page)
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
