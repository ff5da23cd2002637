"""The upload allow-list (documents.types.detect): real headers of every accepted kind get
their type from the content, whatever the name; programs, scripts, web pages and unknown
binaries are refused, whatever the name."""

from __future__ import annotations

import os

import pytest

from documents import types
from tests.documents import samples

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _gif() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (2, 2)).save(buffer, "GIF")
    return buffer.getvalue()


def _tiff() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "TIFF")
    return buffer.getvalue()


ACCEPTED = [
    ("PDF", samples.pdf("Council minutes"), "scan.bin", "application/pdf"),
    ("PNG", samples.png(), "photo.pdf", "image/png"),
    ("JPEG", samples.jpeg(), "photo.png", "image/jpeg"),
    ("GIF", _gif(), "x", "image/gif"),
    ("TIFF", _tiff(), "x", "image/tiff"),
    ("DOCX", samples.docx("Minutes"), "minutes.zip", DOCX),
    ("XLSX", samples.xlsx(), "budget.docx", XLSX),
    ("ODT", samples.odt("Minutes"), "minutes.docx", "application/vnd.oasis.opendocument.text"),
    ("old Word", samples.old_doc(), "minutes.xls", "application/msword"),
    ("old Excel", samples.old_xls(), "budget.doc", "application/vnd.ms-excel"),
    ("RTF", b"{\\rtf1\\ansi Council minutes\\par}", "x.txt", "application/rtf"),
    ("CSV", b"name,amount\nPaving,100\nLights,200\n", "budget.csv", "text/csv"),
    ("TXT", b"Council minutes\nItem 1: paving.\n", "minutes.txt", "text/plain"),
    (
        "Windows-1252 text",
        "Caf\u00e9 budget, \u201cdraft\u201d\n".encode("cp1252"),
        "a.txt",
        "text/plain",
    ),
    ("EML", samples.eml(), "message.txt", "message/rfc822"),
    ("MBOX", samples.mbox(samples.eml()), "mail.txt", "application/mbox"),
    ("ZIP", samples.zip_archive({"a.txt": b"minutes"}), "archive.pdf", "application/zip"),
    ("MP4", samples.mp4(), "video.txt", "video/mp4"),
]


@pytest.mark.parametrize(
    ("label", "data", "filename", "mime"), ACCEPTED, ids=[case[0] for case in ACCEPTED]
)
def test_a_real_file_of_an_accepted_kind_gets_its_type_from_its_content(
    label, data, filename, mime
):
    detected = types.detect(data[:8192], filename=filename)
    assert detected is not None, label
    assert detected.mime == mime


REFUSED = [
    ("Windows program", samples.pe_executable()),
    ("Linux program", samples.elf_executable()),
    ("macOS program", samples.macho_executable()),
    ("shell script", samples.shell_script()),
    ("script after a byte-order mark", b"\xef\xbb\xbf#!/usr/bin/env python\nprint(1)\n"),
    ("Windows shortcut", samples.windows_shortcut()),
    ("Windows Installer package", samples.msi_package()),
    ("unknown compound file", samples._ole(b"\x00" * 8)),
    ("HTML page", samples.html_page()),
    ("HTML fragment", b"<script>document.location='https://attacker.example'</script>"),
    ("SVG image", samples.svg_image()),
    ("random bytes", os.urandom(4096)),
    ("empty", b""),
    ("7-Zip archive", b"7z\xbc\xaf\x27\x1c" + bytes(64)),
]


@pytest.mark.parametrize(("label", "data"), REFUSED, ids=[case[0] for case in REFUSED])
@pytest.mark.parametrize("filename", ["report.pdf", "minutes.txt", ""])
def test_programs_scripts_web_pages_and_unknown_binaries_are_refused_whatever_their_name(
    label, data, filename
):
    assert types.detect(data[:8192], filename=filename) is None, label


def test_an_executable_renamed_to_pdf_is_refused():
    assert types.detect(samples.pe_executable(), filename="invoice.pdf") is None


def test_csv_needs_a_csv_name_otherwise_it_is_plain_text():
    data = b"name,amount\nPaving,100\nLights,200\n"
    assert types.detect(data, filename="budget.csv").mime == "text/csv"
    assert types.detect(data, filename="budget.txt").mime == "text/plain"


def test_text_that_merely_mentions_markup_is_still_text():
    data = b"Minutes: the clerk said <html> tags are not allowed in comments.\n"
    assert types.detect(data, filename="minutes.txt").mime == "text/plain"


def test_a_cut_multibyte_character_at_the_end_of_the_sample_is_still_text():
    data = ("Caf\u00e9 " * 100).encode("utf-8")
    assert types.detect(data[:-1], filename="a.txt").mime == "text/plain"
