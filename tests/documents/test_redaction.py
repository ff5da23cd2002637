"""The redaction engine (documents.redaction: engine, rendering, page_search, images) and the
converter (documents.redaction.convert), on generated files
(tests/documents/redaction_samples.py).

What "clean" means here, checked on every redacted PDF: nothing of a removed value can be
recovered by (1) PDFium's text extraction of every page, (2) reading every object of the file
with pikepdf (all strings, every stream decompressed, the trailer, Info, XMP, attachments)
and (3) the text operands of every page's content stream; and, where Tesseract runs, (4) by
OCR of the output's own pixels. Tesseract is installed where these tests run; without it the
OCR tests skip, or fail when REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageOps

from documents.redaction import convert, engine, images, ocr, page_search, rendering
from documents.redaction.boxes import Box, RedactionError, summarise
from tests.documents import redaction_samples as samples
from tests.documents.redaction_helpers import (
    SSN_REGEX,
    need_tesseract,
    ocr_of_pixels,
    pdfium_text,
    pikepdf_everything,
    recoverable,
    squash,
)


def ssn_finder(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), "ssn") for m in SSN_REGEX.finditer(text)]


@pytest.fixture
def tesseract():
    need_tesseract()


def dark_fraction(png: bytes, box: Box, dpi: int, inset: int = 2) -> float:
    """Share of near-black pixels inside a box of a rendered page (edges inset a little)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    scale = dpi / 72
    area = image.crop(
        (
            round(box.x0 * scale) + inset,
            round(box.y0 * scale) + inset,
            round(box.x1 * scale) - inset,
            round(box.y1 * scale) - inset,
        )
    )
    histogram = area.histogram()
    return sum(histogram[:30]) / sum(histogram)


# --- Shared redactions (each is a few seconds of OCR) --------------------------------------------


@pytest.fixture(scope="module")
def rich() -> bytes:
    return samples.rich_pdf()


@pytest.fixture(scope="module")
def ssn_redacted(rich) -> engine.RedactionResult:
    """The rich sample with boxes drawn over the SSN and the embedded image, OCR on (image
    only where Tesseract is missing: the tests about the OCR layer ask for it by name)."""
    return engine.redact(rich, [samples.ssn_box(), samples.image_box()])


# --- Burning: nothing under a box, nothing hidden, survives -------------------------------------


def test_the_sample_really_holds_the_ssn_everywhere_before_redaction(rich):
    everything = recoverable(rich)
    assert samples.SSN in pdfium_text(rich)
    for value in [*samples.HIDDEN_VALUES, samples.SECOND_SSN]:
        assert value in pdfium_text(rich)
    assert "Reviewer note" in everything  # the note
    assert f"XMP record of {samples.SSN}" in everything  # the XMP packet
    assert f"Bookmark {samples.SSN}" in everything  # the outline
    assert f"Attached copy of {samples.SSN}" in everything  # the attachment
    assert "app.alert" in everything  # the JavaScript


def test_a_boxed_ssn_cannot_be_recovered_from_text_objects_metadata_or_annotations(
    ssn_redacted,
):
    everything = recoverable(ssn_redacted.pdf)
    for gone in [
        samples.SSN,
        samples.SSN.replace("-", ""),
        *samples.HIDDEN_VALUES,  # invisible, white and image-covered text: never painted
        "Reviewer note",
        "Record of",
        "XMP record",
        "Bookmark",
        "Attached copy",
        "app.alert",
    ]:
        assert gone not in everything, gone


def test_ocr_of_the_output_pixels_cannot_read_the_boxed_ssn(tesseract, ssn_redacted):
    read = ocr_of_pixels(ssn_redacted.pdf)
    assert samples.SSN not in read
    assert "Social Security number" in read


def test_words_outside_the_boxes_come_back_through_the_ocr_layer(tesseract, ssn_redacted):
    text = squash(pdfium_text(ssn_redacted.pdf))
    for word in samples.COMMON_WORDS:
        assert word in text, word
    assert samples.EMAIL in text
    assert samples.SECOND_SSN in text  # not boxed in this redaction: still readable
    assert "rotated page mentions" in text
    assert ssn_redacted.ocr_pages == [1, 2, 3]
    assert ssn_redacted.ocr_failed == []


def test_the_ocr_layer_is_invisible_and_under_the_page_image(tesseract, ssn_redacted):
    with pikepdf.open(io.BytesIO(ssn_redacted.pdf)) as pdf:
        for page in pdf.pages:
            instructions = list(pikepdf.parse_content_stream(page))
            operators = [str(i.operator) for i in instructions]
            modes = [int(i.operands[0]) for i in instructions if str(i.operator) == "Tr"]
            assert modes and set(modes) == {3}
            assert operators.count("BT") == len(modes)
            assert operators[-2:] == ["Do", "Q"]  # the image is painted last, over the text


def test_without_ocr_the_redacted_pdf_has_no_text_at_all(rich):
    output = engine.redact_pdf(rich, [samples.ssn_box()], ocr=False)
    assert pdfium_text(output).strip() == ""
    with pikepdf.open(io.BytesIO(output)) as pdf:
        for page in pdf.pages:
            assert "/Font" not in page.Resources
            operators = {str(i.operator) for i in pikepdf.parse_content_stream(page)}
            assert operators == {"q", "cm", "Do", "Q"}


def test_page_count_and_displayed_page_sizes_are_preserved(rich, ssn_redacted):
    assert rendering.page_count(ssn_redacted.pdf) == 3
    assert rendering.page_sizes(ssn_redacted.pdf) == rendering.page_sizes(rich)
    assert rendering.page_sizes(rich)[2] == (792.0, 612.0)  # the rotated page, as displayed


def test_pixels_under_a_box_are_black_and_the_original_image_is_gone(rich, ssn_redacted):
    output = ssn_redacted.pdf
    png = rendering.render_page(output, 1, dpi=100)
    assert dark_fraction(png, samples.ssn_box(), 100) > 0.98
    assert dark_fraction(png, samples.image_box(), 100) > 0.98
    # Outside the boxes the page is mostly white paper.
    assert dark_fraction(png, Box(1, 300, 600, 560, 760), 100) == 0
    original_pixels = samples.photo().tobytes()
    with pikepdf.open(io.BytesIO(output)) as pdf:
        for page in pdf.pages:
            assert list(page.Resources.XObject.keys()) == [
                "/Im0"
            ]  # one picture per page: the burned page
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    assert original_pixels[:4000] not in obj.read_raw_bytes()


def test_colour_survives_and_bilevel_output_is_black_and_white(rich):
    colour = engine.redact_pdf(rich, [samples.ssn_box()], ocr=False)
    page = Image.open(io.BytesIO(rendering.render_page(colour, 1, dpi=72))).convert("RGB")
    x, top, width, height = samples.IMAGE_PLACE
    photo = page.crop((x + 5, top + 5, x + width - 5, top + height - 5))
    assert photo.convert("HSV").getchannel("S").getextrema()[1] > 100  # still colourful
    bilevel = engine.redact(rich, [samples.ssn_box()], ocr=False, bilevel=True).pdf
    with pikepdf.open(io.BytesIO(bilevel)) as pdf:
        for pdf_page in pdf.pages:
            assert int(pdf_page.Resources.XObject.Im0.BitsPerComponent) == 1
    assert len(bilevel) < len(colour)
    png = rendering.render_page(bilevel, 1, dpi=100)
    assert dark_fraction(png, samples.ssn_box(), 100) > 0.98


def test_the_output_has_no_metadata_annotations_attachments_javascript_or_outlines(
    ssn_redacted,
):
    with pikepdf.open(io.BytesIO(ssn_redacted.pdf)) as pdf:
        assert "/Info" not in pdf.trailer
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert len(pdf.attachments) == 0
        for page in pdf.pages:
            assert set(page.obj.keys()) <= {
                "/Type",
                "/Parent",
                "/MediaBox",
                "/Resources",
                "/Contents",
            }
            fonts = page.Resources.get("/Font", {})
            assert all(str(font.BaseFont) == "/GlyphLessFont" for font in fonts.values())
        type0 = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0"
        ]
        # The OCR layer's font is stored once for all pages (none without Tesseract).
        assert len(type0) == (1 if ssn_redacted.ocr_pages else 0)
    raw = pikepdf_everything(ssn_redacted.pdf)
    for marker in ("/JavaScript", "/JS", "/EmbeddedFiles", "/Annots", "/Metadata", "/AA"):
        assert marker not in raw, marker


def test_invisible_white_and_covered_text_is_gone_even_without_a_box(tesseract, rich):
    output = engine.redact_pdf(rich, [])
    everything = recoverable(output)
    for value in samples.HIDDEN_VALUES:
        assert value in pdfium_text(rich)
        assert value not in everything, value
    assert samples.SSN in everything  # visible and unboxed: read back by OCR, as it should be


def test_ocr_reads_the_boxes_as_blank_paper_not_as_letters(tesseract, ssn_redacted):
    first_page = pdfium_text(ssn_redacted.pdf).splitlines()
    line = next(text for text in first_page if "Social Security number" in text)
    assert line.strip().rstrip(":") == "Social Security number"


# --- Redact all: a search term ------------------------------------------------------------------


def test_search_finds_every_occurrence_on_every_page_in_any_case(rich):
    matches = page_search.find_text(rich, samples.NAME)
    per_page = {}
    for match in matches:
        per_page[match.page] = per_page.get(match.page, 0) + 1
    assert per_page == samples.NAME_OCCURRENCES  # incl. upper case, the annotation, rotated
    boxes = page_search.find_text_boxes(rich, samples.NAME.lower())
    assert len(boxes) == sum(samples.NAME_OCCURRENCES.values())


def _darkest(image: Image.Image, x0: float, y0: float, x1: float, y1: float, dpi: int) -> int:
    scale = dpi / 72
    return image.crop(tuple(round(v * scale) for v in (x0, y0, x1, y1))).getextrema()[0]


def test_search_boxes_cover_the_drawn_words_and_not_the_lines_beside_them(rich):
    for box in page_search.find_text_boxes(rich, samples.NAME):
        png = rendering.render_page(rich, box.page, dpi=100)
        image = Image.open(io.BytesIO(png)).convert("L")
        assert _darkest(image, box.x0, box.y0, box.x1, box.y1, 100) < 100  # the word's ink
        if box.width > box.height:  # a line across: blank paper just above and below
            assert _darkest(image, box.x0, box.y0 - 3, box.x1, box.y0 - 1, 100) > 150, box
            assert _darkest(image, box.x0, box.y1 + 1, box.x1, box.y1 + 3, 100) > 150, box
        else:  # the rotated page's line runs down: blank paper either side
            assert _darkest(image, box.x0 - 3, box.y0, box.x0 - 1, box.y1, 100) > 150, box
            assert _darkest(image, box.x1 + 1, box.y0, box.x1 + 3, box.y1, 100) > 150, box


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_search_boxes_land_on_the_words_whatever_the_rotation_and_crop_box(rotate):
    source = samples.text_pdf([["Nothing here.", "The quick brown fox.", "Nothing there."]])
    with pikepdf.open(io.BytesIO(source)) as pdf:
        pdf.pages[0].obj.CropBox = [40, 30, 500, 760]  # the visible part starts off-origin
        pdf.pages[0].obj.Rotate = rotate
        buffer = io.BytesIO()
        pdf.save(buffer)
    data = buffer.getvalue()
    width, height = (460.0, 730.0) if rotate in (0, 180) else (730.0, 460.0)
    assert rendering.page_sizes(data) == [(width, height)]
    (box,) = page_search.find_text_boxes(data, "quick brown")
    image = Image.open(io.BytesIO(rendering.render_page(data, 1, dpi=100))).convert("L")
    assert _darkest(image, box.x0, box.y0, box.x1, box.y1, 100) < 100
    across = box.width > box.height
    assert across == (rotate in (0, 180))
    # Burned at the preview's resolution, the page changed inside the box and nowhere else.
    output = engine.redact_pdf(data, [box], dpi=100, ocr=False)
    burned = Image.open(io.BytesIO(rendering.render_page(output, 1, dpi=100))).convert("L")
    assert burned.size == image.size
    changed = ImageChops.difference(image, burned).point(lambda v: 255 if v > 40 else 0)
    scale = 100 / 72
    left, top, right, bottom = changed.getbbox()
    assert left >= box.x0 * scale - 1 and right <= box.x1 * scale + 1
    assert top >= box.y0 * scale - 1 and bottom <= box.y1 * scale + 1
    inner = (box.x0 + 2, box.y0 + 2, box.x1 - 2, box.y1 - 2)
    assert burned.crop(tuple(round(v * scale) for v in inner)).getextrema() == (0, 0)


def test_redact_all_leaves_no_occurrence_anywhere(tesseract, rich):
    boxes = page_search.find_text_boxes(rich, samples.NAME)
    output = engine.redact_pdf(rich, boxes)
    everything = squash(recoverable(output))
    assert "alice example" not in everything
    assert "alice" not in squash(pdfium_text(output)).replace(samples.EMAIL, "")
    text = squash(pdfium_text(output))
    assert samples.EMAIL in text  # the rest is still there, the words beside the boxes too
    for neighbour in (
        "prepared for",
        "visited the office",
        "case officer",
        "called again",
        "reply sent to",
        "by post",
        "mentions",
    ):
        assert neighbour in text, neighbour


def test_a_phrase_broken_across_lines_is_one_match_with_a_box_per_line():
    pdf = samples.text_pdf([["The report names Alice", "Example as the owner."]])
    (match,) = page_search.find_text(pdf, "alice example")
    assert len(match.boxes) == 2
    first, second = sorted(match.boxes, key=lambda b: b.y0)
    assert first.y1 <= second.y0 + 4  # on two lines, one above the other
    assert page_search.find_text(pdf, "alic", whole_word=True) == []
    assert len(page_search.find_text(pdf, "alic")) == 1


def test_an_empty_search_term_is_refused(rich):
    with pytest.raises(RedactionError, match="Type a word"):
        page_search.find_text_boxes(rich, "   ")


# --- Personal-data patterns ---------------------------------------------------------------------


def test_pattern_boxes_find_visible_and_hidden_ssns(rich):
    found = page_search.find_pattern_boxes(rich, ssn_finder)
    assert {kind for _box, kind in found} == {"ssn"}
    assert len(found) == 5  # the SSN, three hidden numbers (page 1), the second SSN (page 2)
    assert sorted(box.page for box, _ in found) == [1, 1, 1, 1, 2]
    (ssn,) = [box for box, _ in found if abs(box.y0 - samples.ssn_box().y0) < 5]
    drawn = samples.ssn_box()
    assert ssn.x0 <= drawn.x0 + 4 and ssn.x1 >= drawn.x1 - 4


def test_pattern_redaction_leaves_none_of_the_numbers(tesseract, rich):
    found = page_search.find_pattern_boxes(rich, ssn_finder)
    output = engine.redact_pdf(rich, [box for box, _kind in found])
    everything = recoverable(output)
    for value in [samples.SSN, samples.SECOND_SSN, *samples.HIDDEN_VALUES]:
        assert value not in everything, value
    assert SSN_REGEX.search(pdfium_text(output)) is None
    assert "quick" in pdfium_text(output)


def test_patterns_may_be_a_mapping_of_kinds_or_a_list_of_regexes(rich):
    by_kind = page_search.find_pattern_boxes(
        rich, {"ssn": SSN_REGEX, "email": r"[\w.]+@[\w.]+\.\w+"}
    )
    assert sorted({kind for _box, kind in by_kind}) == ["email", "ssn"]
    listed = page_search.find_pattern_boxes(rich, [SSN_REGEX])
    assert [box for box, _ in listed] == [box for box, kind in by_kind if kind == "ssn"]
    assert {kind for _box, kind in listed} == {"pattern"}


def test_a_scanned_page_is_redacted_through_its_ocr_layer(tesseract):
    """A scan with an OCR layer (here: our own output): the layer is what the patterns
    search, and its boxes must cover the pixels of the number, descenders and all."""
    original = samples.text_pdf(
        [["Applicant: Jennifer Quigley", "Social Security 321-54-9876 (verified)", "Approved."]],
        size=14,
    )
    scanned = engine.redact_pdf(original, [])
    assert "321-54-9876" in pdfium_text(scanned)
    found = page_search.find_pattern_boxes(scanned, ssn_finder)
    assert len(found) == 1
    output = engine.redact_pdf(scanned, [box for box, _ in found])
    assert "321-54-9876" not in recoverable(output)
    read = ocr_of_pixels(output)
    assert not re.search(r"\d{3}-?\d{2}", read)
    assert "Quigley" in read


# --- Images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "mime", "fmt"),
    [
        (samples.png_with_metadata, "image/png", "PNG"),
        (samples.jpeg_with_exif, "image/jpeg", "JPEG"),
    ],
)
def test_a_redacted_image_has_black_boxes_and_no_metadata(make, mime, fmt):
    data = make()
    assert b"SnoopCam" in data
    box = Box(1, 30, 40, 110, 90)
    output = images.redact_image(data, [box], mime=mime)
    for leaked in (b"SnoopCam", samples.SSN.encode(), b"Alice", b"Exif", b"GPS"):
        assert leaked not in output
    image = Image.open(io.BytesIO(output))
    assert image.format == fmt
    assert image.size == Image.open(io.BytesIO(data)).size
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "comment", "Comment", "Description", "xmp"} & set(image.info)
    rgb = image.convert("RGB")
    inside = rgb.crop((31, 41, 109, 89)).convert("L").getextrema()
    assert inside[1] < 20  # black, give or take JPEG noise
    assert rgb.convert("L").crop((150, 100, 230, 150)).getextrema()[0] > 60  # untouched


def test_a_redacted_tiff_keeps_its_pages_and_boxes_the_right_one():
    data = samples.tiff_pages()
    output = images.redact_image(data, [Box(2, 0, 0, 50, 50)], mime="image/tiff")
    image = Image.open(io.BytesIO(output))
    assert image.n_frames == 2
    assert samples.SSN.encode() not in output and b"SnoopCam" not in output
    first = image.convert("L").crop((0, 0, 50, 50)).getextrema()
    image.seek(1)
    second = image.convert("L").crop((0, 0, 50, 50)).getextrema()
    assert first[0] > 60 and second == (0, 0)


def test_a_sideways_jpeg_is_boxed_where_shown_in_the_preview_then_turned_upright():
    data = samples.jpeg_with_exif(orientation=6)  # stored sideways, shown turned 90 degrees
    preview = Image.open(io.BytesIO(images.image_preview(data)))
    assert preview.size == images.image_size(data) == (240, 160)  # the stored frame
    output = Image.open(
        io.BytesIO(images.redact_image(data, [Box(1, 0, 0, 60, 40)], mime="image/jpeg"))
    )
    assert output.size == (160, 240)  # upright, as viewers showed the original
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert expected.size == output.size
    # The stored frame's top-left corner is the upright image's top-right corner.
    assert output.convert("L").crop((121, 1, 159, 59)).getextrema()[1] < 20
    assert output.convert("L").crop((1, 1, 100, 59)).getextrema()[0] > 60


def test_image_redaction_refuses_other_types_and_broken_data():
    with pytest.raises(RedactionError, match="PNG, JPEG and TIFF"):
        images.redact_image(b"GIF89a", [], mime="image/gif")
    with pytest.raises(RedactionError, match="could not be read as an image"):
        images.redact_image(b"\x89PNG\r\n\x1a\nbroken", [], mime="image/png")
    with pytest.raises(RedactionError, match="page 2"):
        images.redact_image(samples.png_with_metadata(), [Box(2, 0, 0, 5, 5)], mime="image/png")


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"not a pdf at all", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF", b"\x00" * 4096],
)
def test_malformed_pdfs_raise_a_plain_redaction_error(data):
    for call in (
        lambda: engine.redact_pdf(data, [], ocr=False),
        lambda: page_search.find_text_boxes(data, "word"),
        lambda: rendering.page_sizes(data),
        lambda: rendering.render_page(data, 1),
    ):
        with pytest.raises(RedactionError, match=r"could not be read as a PDF|has no pages"):
            call()


def test_a_password_protected_pdf_is_refused_with_a_plain_message():
    data = samples.build_pdf(samples.rich_pages()[:1], encrypt_password="secret")
    with pytest.raises(RedactionError, match="protected by a password"):
        engine.redact_pdf(data, [])
    with pytest.raises(RedactionError, match="protected by a password"):
        rendering.page_count(data)


def test_a_pdf_with_only_an_owner_password_is_redacted_and_comes_out_unencrypted():
    data = samples.build_pdf(samples.rich_pages()[:1], encrypt_password="")
    output = engine.redact_pdf(data, [samples.ssn_box()], ocr=False)
    with pikepdf.open(io.BytesIO(output)) as pdf:
        assert not pdf.is_encrypted
        assert len(pdf.pages) == 1


def test_a_box_on_a_page_the_document_lacks_is_refused(rich):
    with pytest.raises(RedactionError, match="page 9, but the document has 3 pages"):
        engine.redact_pdf(rich, [Box(9, 0, 0, 10, 10)], ocr=False)
    with pytest.raises(RedactionError, match="Choose a page from 1 to 3"):
        rendering.render_page(rich, 4)


def test_a_box_takes_its_corners_in_any_order_and_refuses_nonsense():
    assert Box(1, 50, 60, 10, 20) == Box(1, 10, 20, 50, 60)
    with pytest.raises(ValueError):
        Box(0, 0, 0, 1, 1)
    with pytest.raises(ValueError):
        Box(1, 0, float("nan"), 1, 1)


# --- OCR missing or failing -----------------------------------------------------------------


def test_without_tesseract_the_pdf_is_redacted_image_only_and_says_so(rich, monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    result = engine.redact(rich, [samples.ssn_box()])
    assert result.ocr_unavailable is True
    assert result.ocr_pages == []
    assert pdfium_text(result.pdf).strip() == ""


def test_a_page_whose_ocr_fails_keeps_its_image_and_is_reported(tesseract, rich, monkeypatch):
    real = engine.tesseract
    calls = []

    def flaky(pgm, dpi, lang, timeout):
        calls.append(dpi)
        return None if len(calls) == 2 else real(pgm, dpi, lang, timeout)

    monkeypatch.setattr(engine, "tesseract", flaky)
    result = engine.redact(rich, [], ocr_workers=1)
    assert result.ocr_failed == [2]
    assert result.ocr_pages == [1, 3]
    assert rendering.page_count(result.pdf) == 3


# --- Preview, size, speed, log ----------------------------------------------------------------


def test_the_preview_is_a_png_at_the_asked_resolution(rich):
    png = rendering.render_page(rich, 3, dpi=72)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (792, 612)  # the rotated page, as displayed


def test_thirty_pages_are_redacted_in_reasonable_time_and_memory():
    data = samples.long_pdf(30)
    started = time.perf_counter()
    found = page_search.find_pattern_boxes(data, ssn_finder)
    assert len(found) == 30
    done = []
    result = engine.redact(
        data,
        [box for box, _ in found],
        dpi=150,
        ocr=False,
        on_page=lambda page, total: done.append((page, total)),
    )
    elapsed = time.perf_counter() - started
    assert result.pages == 30 and done[-1] == (30, 30)
    assert elapsed < 30, elapsed
    assert len(result.pdf) < 30 * 400_000  # lossless text pages stay small


def test_a_page_too_large_to_render_at_the_asked_resolution_is_rendered_smaller():
    poster = samples.build_pdf([samples.PageSpec(runs=[], size=(5000.0, 5000.0))])
    output = engine.redact_pdf(poster, [Box(1, 0, 0, 2500, 2500)], ocr=False)
    with pikepdf.open(io.BytesIO(output)) as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert int(image.Width) * int(image.Height) <= rendering.MAX_PAGE_PIXELS
    assert rendering.page_sizes(output) == [(5000.0, 5000.0)]


def test_summarise_counts_boxes_and_area_per_page():
    summary = summarise([Box(2, 0, 0, 10, 10), Box(1, 0, 0, 2, 3), Box(2, 5, 5, 6, 6)])
    assert summary == [
        {"page": 1, "boxes": 1, "area": 6.0},
        {"page": 2, "boxes": 2, "area": 101.0},
    ]


# --- Conversion -------------------------------------------------------------------------------
# The real LibreOffice is tested in test_office_conversion.py; here: no converter, and a fake
# `soffice` for its arguments and for a hang (what a real one can't be made to do on demand).

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_without_libreoffice_office_documents_say_clearly_they_cannot_be_redacted(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice here, whatever the machine has
    assert convert.converter_available() is False
    assert convert.can_convert(DOCX) is False
    assert convert.to_pdf(b"PK\x03\x04", DOCX) is None
    assert "can't be redacted here" in convert.UNAVAILABLE_MESSAGE
    assert "LibreOffice" in convert.UNAVAILABLE_MESSAGE


def _fake_soffice(folder, body: str) -> None:
    script = folder / "soffice"
    script.write_text(f"#!{sys.executable}\nimport sys, pathlib, time\nargs = sys.argv[1:]\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_a_converter_on_the_path_is_run_headless_into_a_private_folder(monkeypatch, tmp_path):
    _fake_soffice(
        tmp_path,
        "out = pathlib.Path(args[args.index('--outdir') + 1])\n"
        "assert '--headless' in args and args[0].startswith('-env:UserInstallation=file:')\n"
        "source = pathlib.Path(args[-1])\n"
        "assert source.suffix == '.docx' and source.read_bytes() == b'PK-docx'\n"
        f"out.joinpath(source.stem + '.pdf').write_bytes({samples.text_pdf([['Converted']])!r})\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    assert convert.converter_available() is True
    pdf = convert.to_pdf(b"PK-docx", DOCX)
    assert "Converted" in pdfium_text(pdf)


def test_the_plaintext_waits_for_the_converter_in_memory_when_there_is_room(monkeypatch, tmp_path):
    # The fake converter reports where it found the document and its TMPDIR.
    _fake_soffice(
        tmp_path,
        "import os\n"
        "out = pathlib.Path(args[args.index('--outdir') + 1])\n"
        "source = pathlib.Path(args[-1])\n"
        "pathlib.Path(os.environ['SEEN']).write_text(str(source) + '\\n' + os.environ['TMPDIR'])\n"
        f"out.joinpath(source.stem + '.pdf').write_bytes({samples.text_pdf([['Converted']])!r})\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("SEEN", str(seen))
    ram, disk = tmp_path / "ram", tmp_path / "disk"
    ram.mkdir()
    disk.mkdir()
    monkeypatch.setattr(convert, "RAM_FOLDER", ram)
    monkeypatch.setattr(tempfile, "tempdir", str(disk))

    convert.to_pdf(b"PK-docx", DOCX)
    source, converter_temp = seen.read_text().splitlines()
    assert Path(source).parent.parent == ram
    assert Path(converter_temp) == Path(source).parent  # its own temporary files too
    assert list(ram.iterdir()) == [] and list(disk.iterdir()) == []

    monkeypatch.setattr(convert, "RAM_HEADROOM", 1 << 62)  # no room in memory: the disk
    convert.to_pdf(b"PK-docx", DOCX)
    source, _ = seen.read_text().splitlines()
    assert Path(source).parent.parent == disk
    assert list(disk.iterdir()) == []


def test_work_folders_left_by_a_killed_conversion_are_removed_by_the_next(monkeypatch, tmp_path):
    _fake_soffice(
        tmp_path,
        "out = pathlib.Path(args[args.index('--outdir') + 1])\n"
        f"out.joinpath('document.pdf').write_bytes({samples.text_pdf([['Converted']])!r})\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    ram = tmp_path / "ram"
    ram.mkdir()
    monkeypatch.setattr(convert, "RAM_FOLDER", ram)
    abandoned, running = ram / "convert-abandoned", ram / "convert-running"
    for folder in (abandoned, running):
        folder.mkdir()
        (folder / "document.docx").write_bytes(b"PK plaintext")
    hours_ago = time.time() - 2 * convert.ABANDONED_AFTER
    os.utime(abandoned, (hours_ago, hours_ago))

    convert.to_pdf(b"PK-docx", DOCX)

    assert not abandoned.exists()
    assert running.exists()  # another process's conversion, still within its time


def test_a_conversion_interrupted_any_other_way_stops_the_converter(monkeypatch, tmp_path):
    # e.g. Celery's soft time limit raised inside communicate(): LibreOffice must not live on.
    _fake_soffice(tmp_path, "time.sleep(30)\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    started = []
    real_communicate = subprocess.Popen.communicate

    def interrupted(self, *args, **kwargs):
        if kwargs.get("timeout") is not None:
            started.append(self)
            raise KeyboardInterrupt  # stands in for SoftTimeLimitExceeded
        return real_communicate(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "communicate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        convert.to_pdf(b"PK-docx", DOCX)

    [process] = started
    assert process.poll() is not None  # stopped and reaped


def test_a_converter_that_hangs_is_stopped_with_a_plain_error(monkeypatch, tmp_path):
    _fake_soffice(tmp_path, "time.sleep(30)\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    started = time.perf_counter()
    with pytest.raises(convert.ConversionError, match="longer than 1 seconds"):
        convert.to_pdf(b"PK-docx", DOCX, timeout=1)
    assert time.perf_counter() - started < 10


def test_text_and_csv_become_searchable_pdfs_without_any_converter(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert convert.can_convert("text/plain") and convert.can_convert("text/csv")
    text = "Name,SSN\nAlice Example,123-45-6789\n" + "filler line\n" * 200 + "x" * 300
    pdf = convert.to_pdf(text.encode(), "text/csv")
    assert rendering.page_count(pdf) >= 3  # long text flows onto more pages
    assert samples.SSN in pdfium_text(pdf)
    assert [kind for _box, kind in page_search.find_pattern_boxes(pdf, ssn_finder)] == ["ssn"]
    assert "x" * 80 in pdfium_text(pdf).replace("\r\n", "")  # long lines wrap, not cut
    assert convert.to_pdf("Café ünïcode ✓".encode(), "text/plain").startswith(b"%PDF-")


def test_converting_an_unknown_type_is_refused():
    with pytest.raises(convert.ConversionError):
        convert.to_pdf(b"data", "application/zip")
