"""The scanner: personal-data detectors, text extraction from every hiding place, malware
checks and archive limits, the clamd client against a real clamd (Debian's clamav-daemon,
started by the fixtures below with a signature database of the tests' own:
tests/documents/clamd_server.py) over TCP and a Unix socket, and the scan task end to end on
documents stored through documents.versions.version_create, with and without clamd.

Sample files: tests/documents/samples.py.
"""

from __future__ import annotations

import datetime
import select
import socket
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import models

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import keys, release, tasks, types, versions
from documents.models import Document, DocumentStatus, Finding, VersionKind
from documents.scan import archives, malware, scanner
from documents.scan import clamd as clamd_client
from documents.scan.extract.base import DOCX, XLSX, PasswordProtected, Unreadable, xml_text
from documents.scan.extract.extraction import Extraction
from requests_portal import pii
from tests.documents import samples
from tests.documents.clamd_server import (
    EICAR_SIGNATURE,
    MARKER,
    MARKER_SIGNATURE,
    STREAM_MAX_LENGTH,
    ClamdServer,
    clamd_unavailable_reason,
    start_clamd,
)
from tests.idp.fixtures import service_unavailable
from vault.locations import documents_store

# --- Personal-data detectors ---------------------------------------------------------------

FOUND = [
    # (text, kind, masked excerpt)
    ("SSN 123-45-6789 on file", "ssn", "***-**-6789"),
    ("applicant 123-45-6789", "ssn", "***-**-6789"),
    ("SSN: 123456789", "ssn", "***-**-6789"),
    ("Social Security No. 123 45 6789", "ssn", "***-**-6789"),
    ("soc. sec. 771234567", "ssn", "***-**-4567"),
    ("card 4242 4242 4242 4242 exp 12/29", "card", "**** **** **** 4242"),
    ("4111-1111-1111-1111", "card", "**** **** **** 1111"),
    ("paid with 5555555555554444", "card", "**** **** **** 4444"),
    ("Amex 3782 822463 10005", "card", "**** **** **** 0005"),
    ("Discover 6011111111111117", "card", "**** **** **** 1117"),
    ("Mastercard 2223003122003222", "card", "**** **** **** 3222"),
    ("write to Jane.Doe@Example.org today", "email", "J***@example.org"),
    ("cc: o'neil+records@city.example.gov", "email", "n***@city.example.gov"),
    ("Call (555) 234-1234", "phone", "(***) ***-1234"),
    ("555-234-1234", "phone", "(***) ***-1234"),
    ("555.234.1234", "phone", "(***) ***-1234"),
    ("+1 555 234 1234", "phone", "(***) ***-1234"),
    ("1-555-234-1234", "phone", "(***) ***-1234"),
    ("Tel: 5552341234", "phone", "(***) ***-1234"),
    ("DOB: 05/17/1984", "birth_date", "**/**/1984"),
    ("D.O.B. 5-17-84", "birth_date", "**/**/1984"),
    ("Date of birth: May 17, 1984", "birth_date", "**/**/1984"),
    ("born on 17 May 1984 in Ohio", "birth_date", "**/**/1984"),
    ("Birthdate 1984-05-17", "birth_date", "**/**/1984"),
    ("1984-05-17 (DOB)", "birth_date", "**/**/1984"),
    ("DOB 17/05/1984", "birth_date", "**/**/1984"),
]


@pytest.mark.parametrize(("text", "kind", "excerpt"), FOUND)
def test_detectors_find_personal_data_and_keep_only_a_masked_excerpt(text, kind, excerpt):
    matches = pii.find(text)
    assert [(m.kind, m.excerpt) for m in matches] == [(kind, excerpt)]
    match = matches[0]
    value = text[match.start : match.end]
    assert value not in match.excerpt
    assert len(match.digest) == 64


NOT_FOUND = [
    # (text, the kinds that must not be found)
    ("Order 123456789 shipped", ("ssn",)),
    ("Order no. 123-45-6789", ("ssn",)),
    ("Invoice 123-45-6789", ("ssn",)),
    ("000-12-3456", ("ssn",)),
    ("666-12-3456", ("ssn",)),
    ("912-34-5678", ("ssn",)),
    ("123-00-4567", ("ssn",)),
    ("123-45-0000", ("ssn",)),
    ("078-05-1120 from the wallet advertisement", ("ssn",)),
    ("the 9-digit reference 123456789", ("ssn",)),
    ("ISBN 978-0-306-40615-7", ("ssn", "card", "phone")),
    ("ISBN 0-306-40615-2", ("ssn", "card", "phone")),
    ("9780306406157", ("card",)),
    ("4242 4242 4242 4241", ("card",)),  # fails the Luhn check
    ("1234567812345670", ("card",)),  # Luhn-valid, but no card scheme starts with 1
    ("Order 4111111111111111", ("card",)),
    ("tracking 4111 1111 1111 1111", ("card",)),
    ("amount 4242.42", ("card",)),
    ("Meeting on 05/17/1984 at city hall", ("birth_date",)),
    ("Invoice date 2024-01-15", ("birth_date",)),
    ("DOB: 13/13/1984", ("birth_date",)),
    ("DOB: 05/17/2999", ("birth_date",)),
    ("5552341234", ("phone",)),  # ten bare digits without a phone word
    ("Call 911 now", ("phone",)),
    ("(555) 123-4567", ("phone",)),  # exchanges never start with 1
    ("(911) 234-5678", ("phone",)),  # N11 is not an area code
    ("Case no. 2024-555-234-1234", ("phone",)),
    ("user@localhost", ("email",)),
    ("@handle and a@b", ("email",)),
]


@pytest.mark.parametrize(("text", "kinds"), NOT_FOUND)
def test_detectors_leave_ordinary_numbers_and_dates_alone(text, kinds):
    assert [m for m in pii.find(text) if m.kind in kinds] == []


@pytest.mark.clock
def test_a_birth_date_is_one_that_has_come_somewhere_on_earth():
    # The scanner knows no agency: a date that is already today on the calendar furthest
    # ahead (UTC+14) may be a birth date (the server's UTC date would refuse it every day
    # from 10:00 UTC); one still to come everywhere may not.
    furthest_ahead = datetime.timezone(datetime.timedelta(hours=14))
    today_somewhere = datetime.datetime.now(furthest_ahead).date()
    tomorrow_everywhere = today_somewhere + datetime.timedelta(days=1)
    found = pii.find(f"DOB: {today_somewhere:%m/%d/%Y}")
    assert [m.kind for m in found] == ["birth_date"]
    assert pii.find(f"DOB: {tomorrow_everywhere:%m/%d/%Y}", kinds=("birth_date",)) == []


def test_the_same_value_written_differently_has_the_same_digest():
    first = pii.find("SSN 123-45-6789")[0]
    second = pii.find("ssn: 123456789")[0]
    third = pii.find("SSN 123-45-6780")[0]
    assert first.digest == second.digest != third.digest
    cards = [pii.find(t)[0].digest for t in ("4242 4242 4242 4242", "4242-4242-4242-4242")]
    assert cards[0] == cards[1]


def test_the_digest_is_keyed_with_the_secret_key(settings):
    import hashlib

    before = pii.find("SSN 123-45-6789")[0].digest
    assert before != hashlib.sha256(b"123456789").hexdigest()
    assert before != hashlib.sha256(b"ssn:123456789").hexdigest()
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert pii.find("SSN 123-45-6789")[0].digest != before


def test_matches_never_overlap_and_come_in_order():
    text = f"{samples.EMAIL} SSN {samples.SSN} card {samples.CARD} {samples.PHONE} {samples.DOB}"
    matches = pii.find(text)
    assert [m.kind for m in matches] == ["email", "ssn", "card", "phone", "birth_date"]
    assert all(a.end <= b.start for a, b in pairwise(matches))


def test_kinds_limits_the_search():
    text = f"{samples.EMAIL} SSN {samples.SSN}"
    assert [m.kind for m in pii.find(text, kinds=("ssn",))] == ["ssn"]


def test_a_large_text_is_searched_quickly():
    text = ("Minutes of the meeting, item 12, amount 1,234.56, order 99812. " * 20_000) + (
        f" SSN {samples.SSN}"
    )
    started = time.monotonic()
    matches = pii.find(text)
    assert time.monotonic() - started < 5
    assert [m.kind for m in matches] == ["ssn"]


# --- Extraction: every hiding place -------------------------------------------------------------


def findings_in(data: bytes, mime: str | None = None, *, name: str = "") -> list[tuple]:
    """(location, kind, excerpt) of every personal-data value in a file, as the scanner
    sees them (extraction + detectors, no database)."""
    if mime is None:
        mime = types.detect(data[:8192], filename=name).mime
    found = []
    for piece in Extraction().pieces(data, mime=mime, name=name):
        for match in pii.find(piece.text):
            found.append((piece.location, match.kind, match.excerpt))
    return found


def located(found: list[tuple], location_part: str, kind: str = "ssn") -> bool:
    return any(location_part in where and k == kind for where, k, _ in found)


HIDING_PLACES = [
    # (label, file, expected part of the location, kind)
    (
        "hidden sheet",
        lambda: samples.xlsx(hidden_sheet=samples.SSN),
        "sheet Payroll (hidden) B3",
        "ssn",
    ),
    (
        "very hidden sheet",
        lambda: samples.xlsx(very_hidden_sheet=samples.SSN),
        "sheet Archive (very hidden) C7",
        "ssn",
    ),
    ("hidden row", lambda: samples.xlsx(hidden_row=samples.SSN), "A5 (hidden row)", "ssn"),
    ("hidden column", lambda: samples.xlsx(hidden_column=samples.SSN), "D2 (hidden column)", "ssn"),
    ("cell comment", lambda: samples.xlsx(comment=f"SSN {samples.SSN}"), "A1 comment", "ssn"),
    (
        "defined name",
        lambda: samples.xlsx(defined_name=samples.EMAIL),
        "defined name Contact",
        "email",
    ),
    (
        "workbook properties",
        lambda: samples.xlsx(creator=samples.EMAIL),
        "document properties",
        "email",
    ),
    (
        "column heading gives context",
        lambda: samples.xlsx(
            header_cells={"B1": "SSN", "B2": "123456789", "C1": "DOB", "C2": "05/17/1984"}
        ),
        "sheet Summary B2",
        "ssn",
    ),
    ("PDF page text", lambda: samples.pdf(f"Applicant SSN {samples.SSN}"), "page 1", "ssn"),
    ("PDF invisible text", lambda: samples.pdf("Minutes", invisible=samples.SSN), "page 1", "ssn"),
    ("PDF white text", lambda: samples.pdf("Minutes", white=samples.SSN), "page 1", "ssn"),
    (
        "PDF document information",
        lambda: samples.pdf("Minutes", title=f"SSN {samples.SSN}"),
        "PDF metadata (document information)",
        "ssn",
    ),
    (
        "PDF XMP metadata",
        lambda: samples.pdf("Minutes", xmp_description=samples.SSN),
        "PDF metadata (XMP)",
        "ssn",
    ),
    (
        "PDF annotation",
        lambda: samples.pdf("Minutes", annotation=f"SSN {samples.SSN}"),
        "page 1 annotation 1",
        "ssn",
    ),
    (
        "PDF annotation author",
        lambda: samples.pdf("Minutes", annotation="ok", annotation_author=samples.EMAIL),
        "page 1 annotation 1",
        "email",
    ),
    (
        "PDF form field",
        lambda: samples.pdf("Form", form_field=("ssn", samples.SSN)),
        "form field",
        "ssn",
    ),
    (
        "PDF attached file name",
        lambda: samples.pdf("Minutes", attachment=(f"{samples.EMAIL}.txt", b"hello")),
        "names of attached files",
        "email",
    ),
    ("Word body", lambda: samples.docx(f"SSN {samples.SSN}"), "document body", "ssn"),
    ("Word comment", lambda: samples.docx("Minutes", comment=samples.SSN), "comments", "ssn"),
    ("Word header", lambda: samples.docx("Minutes", header=samples.SSN), "header 1", "ssn"),
    (
        "Word hidden text",
        lambda: samples.docx("Minutes", hidden_run=samples.SSN),
        "document body",
        "ssn",
    ),
    (
        "Word tracked deletion",
        lambda: samples.docx("Minutes", deleted=samples.SSN),
        "document body",
        "ssn",
    ),
    (
        "Word properties",
        lambda: samples.docx("Minutes", creator=samples.EMAIL),
        "document properties",
        "email",
    ),
    (
        "OpenDocument body",
        lambda: samples.odt("Minutes", f"SSN {samples.SSN}"),
        "document body",
        "ssn",
    ),
    (
        "OpenDocument properties",
        lambda: samples.odt("Minutes", creator=samples.EMAIL),
        "document properties",
        "email",
    ),
    ("email body", lambda: samples.eml(body=f"SSN {samples.SSN}"), "email body", "ssn"),
    (
        "email HTML body",
        lambda: samples.eml(html_body=f"<p>SSN <b>{samples.SSN}</b></p>"),
        "email body (HTML)",
        "ssn",
    ),
    ("email subject", lambda: samples.eml(subject=f"SSN {samples.SSN}"), "email headers", "ssn"),
    (
        "email attachment name",
        lambda: samples.eml(attachment=(f"{samples.EMAIL}.txt", b"hello", "text/plain")),
        "attachment name",
        "email",
    ),
    (
        "email attachment content",
        lambda: samples.eml(
            attachment=("scan.pdf", samples.pdf(f"SSN {samples.SSN}"), "application/pdf")
        ),
        "attachment scan.pdf > page 1",
        "ssn",
    ),
    (
        "mailbox message",
        lambda: samples.mbox(samples.eml(), samples.eml(body=f"From the file: SSN {samples.SSN}")),
        "message 2 > email body",
        "ssn",
    ),
    (
        "zip member",
        lambda: samples.zip_archive({"notes.txt": f"SSN {samples.SSN}".encode()}),
        "notes.txt",
        "ssn",
    ),
    (
        "spreadsheet in a zip",
        lambda: samples.zip_archive({"budget.xlsx": samples.xlsx(hidden_sheet=samples.SSN)}),
        "budget.xlsx > sheet Payroll (hidden) B3",
        "ssn",
    ),
    (
        "zip in a zip",
        lambda: samples.nested_zip(2, {"deep.txt": f"SSN {samples.SSN}".encode()}),
        "level1.zip > deep.txt",
        "ssn",
    ),
    (
        "zip member name",
        lambda: samples.zip_archive({f"{samples.EMAIL}.txt": b"hello"}),
        "names of the files in the archive",
        "email",
    ),
    ("CSV with a heading", lambda: b"name,SSN\nJane,123456789\n", "row 2, column 2", "ssn"),
    ("PNG text chunk", lambda: samples.png(comment=f"SSN {samples.SSN}"), "image metadata", "ssn"),
    (
        "JPEG EXIF description",
        lambda: samples.jpeg(description=f"SSN {samples.SSN}"),
        "image metadata",
        "ssn",
    ),
    ("RTF", lambda: b"{\\rtf1\\ansi SSN \\b 123-45-6789\\b0\\par}", "document text", "ssn"),
    (
        "old Word text",
        lambda: samples.old_doc(f"SSN {samples.SSN}"),
        "text found in the file (old Office format)",
        "ssn",
    ),
]


@pytest.mark.parametrize(
    ("label", "build", "where", "kind"), HIDING_PLACES, ids=[case[0] for case in HIDING_PLACES]
)
def test_personal_data_is_found_in_every_hiding_place(label, build, where, kind):
    data = build()
    name = "table.csv" if label.startswith("CSV") else ""
    found = findings_in(data, name=name)
    assert located(found, where, kind), (label, found)
    assert all(samples.SSN not in where_ for where_, _, _ in found)


def test_a_first_row_of_data_is_not_taken_for_column_headings():
    data = samples.xlsx(
        visible="Name",
        header_cells={
            "B1": "jane@example.org",
            "B2": "john@example.org",
            "C1": "DOB",
            "C2": "05/17/1984",
        },
    )
    found = findings_in(data)
    assert sorted((where, kind) for where, kind, _ in found) == [
        ("sheet Summary B1", "email"),
        ("sheet Summary B2", "email"),
        ("sheet Summary C2", "birth_date"),
    ]


def test_text_files_give_line_numbers():
    text = "Minutes\n\nItem 1\nSSN 123-45-6789\n"
    pieces = list(Extraction().pieces(text.encode(), mime="text/plain"))
    assert pieces[0].by_line
    found, _ = scanner._personal_data(text.encode(), "text/plain", [])
    assert [(f.location, f.excerpt) for f in found] == [("line 4", samples.SSN_MASKED)]


def test_an_encrypted_pdf_is_unreadable_with_a_plain_message():
    with pytest.raises(PasswordProtected, match="protected with a password"):
        list(Extraction().pieces(samples.encrypted_pdf(), mime="application/pdf"))


def test_a_malformed_pdf_is_unreadable_with_a_plain_message():
    with pytest.raises(Unreadable, match="damaged"):
        list(Extraction().pieces(samples.malformed_pdf(), mime="application/pdf"))


def test_an_unreadable_file_inside_an_archive_is_a_note_not_a_failure():
    archive = samples.zip_archive(
        {"locked.pdf": samples.encrypted_pdf(), "notes.txt": f"SSN {samples.SSN}".encode()}
    )
    extraction = Extraction()
    pieces = list(extraction.pieces(archive, mime="application/zip"))
    assert any("notes.txt" in p.location for p in pieces)
    assert any("locked.pdf" in note and "password" in note for note in extraction.notes)


def test_xml_with_a_doctype_is_refused_so_entities_never_expand():
    with pytest.raises(ValueError, match="DOCTYPE"):
        xml_text(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    extraction = Extraction()
    list(extraction.pieces(samples.entity_bomb_docx(), mime=DOCX))
    assert extraction.notes == ["The footnotes could not be read."]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig"])
def test_a_doctype_is_refused_in_any_encoding_expat_reads(encoding):
    """UTF-16 without a byte-order mark hid "<!DOCTYPE" from a byte search, yet expat reads
    it (and expanded the entities); the parser itself now refuses the declaration."""
    document = (
        '<?xml version="1.0" encoding="{}"?><!DOCTYPE a [<!ENTITY b "0123456789">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><a>&c;</a>'
    )
    declared = "UTF-8" if encoding == "utf-8-sig" else "UTF-16"
    with pytest.raises(ValueError, match="DOCTYPE"):
        xml_text(document.format(declared).encode(encoding))
    assert xml_text("<a><p>plain</p></a>".encode(encoding)) == "plain"


def _truncations(data: bytes) -> list[bytes]:
    return [data[:cut] for cut in (10, 100, len(data) // 3, len(data) // 2, len(data) - 7)]


DAMAGED_INPUTS = [
    ("pdf", samples.pdf(f"SSN {samples.SSN}", annotation="x"), "application/pdf"),
    ("xlsx", samples.xlsx(hidden_sheet=samples.SSN), XLSX),
    ("docx", samples.docx("Minutes", comment="x"), DOCX),
    ("zip", samples.zip_archive({"a.txt": b"x" * 5000}), "application/zip"),
    (
        "eml",
        samples.eml(attachment=("a.pdf", samples.pdf("x"), "application/pdf")),
        "message/rfc822",
    ),
    ("png", samples.png(comment="x"), "image/png"),
]


@pytest.mark.parametrize(
    ("label", "data", "mime"), DAMAGED_INPUTS, ids=[case[0] for case in DAMAGED_INPUTS]
)
def test_damaged_files_end_in_a_plain_refusal_never_an_unexpected_exception(label, data, mime):
    for damaged in [*_truncations(data), data[:200] + bytes(300) + data[500:]]:
        malware.inspect(damaged, mime=mime)
        try:
            for _ in Extraction().pieces(damaged, mime=mime):
                pass
        except Unreadable as error:
            assert str(error)
            assert "Traceback" not in str(error)


# --- Malware --------------------------------------------------------------------------------------


def threats_of(data: bytes, **kwargs) -> list[str]:
    return [t.description for t in malware.inspect(data, **kwargs).threats]


def test_the_eicar_test_file_is_malware_anywhere_in_the_first_kilobyte():
    assert "The EICAR antivirus test file." in threats_of(samples.eicar())
    assert threats_of(b"x" * 900 + samples.eicar())
    assert not threats_of(b"x" * 2000 + samples.eicar())
    assert threats_of(b"Minutes of the meeting.") == []


def test_eicar_inside_an_archive_or_an_email_is_found():
    assert threats_of(samples.zip_archive({"a/b.txt": samples.eicar()}))
    assert threats_of(samples.nested_zip(2, {"test.txt": samples.eicar()}))
    message = samples.eml(attachment=("test.txt", samples.eicar(), "text/plain"))
    assert threats_of(message)
    assert threats_of(samples.mbox(samples.eml(), message))
    assert threats_of(samples.pdf("Minutes", attachment=("test.txt", samples.eicar())))


PROGRAMS = [
    ("Windows", samples.pe_executable, "Windows program"),
    ("Linux", samples.elf_executable, "Linux program"),
    ("macOS", samples.macho_executable, "macOS program"),
    ("script", samples.shell_script, "script"),
    ("shortcut", samples.windows_shortcut, "Windows shortcut"),
    ("installer", samples.msi_package, "Windows Installer"),
]


@pytest.mark.parametrize(("label", "build", "words"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_programs_are_malware_by_their_signature_alone_or_inside_an_archive(label, build, words):
    assert any(words in t for t in threats_of(build(), name="report.pdf"))
    inside = samples.zip_archive({"docs/report.pdf": build()})
    assert any(words in t for t in threats_of(inside))
    attached = samples.eml(attachment=("report.pdf", build(), "application/pdf"))
    assert any(words in t for t in threats_of(attached))


def test_a_renamed_executable_is_refused_at_upload_and_blocked_if_it_sneaks_into_a_zip():
    assert types.detect(samples.pe_executable(), filename="invoice.pdf") is None
    archive = samples.zip_archive({"invoice.pdf": samples.pe_executable()})
    assert types.detect(archive[:8192], filename="invoices.zip").mime == "application/zip"
    (threat,) = malware.inspect(archive).threats
    assert threat.location == "invoice.pdf"
    assert "Windows program" in threat.description


@pytest.mark.parametrize("name", ["run.exe", "setup.MSI", "invoice.pdf.js", "x.bat", "a.jar"])
def test_files_named_like_programs_inside_archives_and_emails_are_malware(name):
    assert threats_of(samples.zip_archive({name: b"plain words"}))
    assert threats_of(samples.eml(attachment=(name, b"plain words", "text/plain")))


def test_parts_of_office_files_are_not_judged_by_their_names():
    workbook = samples.docx("Minutes", extra_parts={"word/printerSettings/x.bin": bytes(64)})
    assert threats_of(workbook) == []


def test_office_macros_are_malware():
    assert "The document contains macros (VBA code)." in threats_of(samples.macro_docx())
    assert "The document contains macros (VBA code)." in threats_of(samples.macro_doc())
    assert threats_of(samples.docx("Minutes")) == []
    assert threats_of(samples.old_doc("Minutes")) == []


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return samples.zip_bomb()  # 1 GiB of zeros in about 1 MiB


@contextmanager
def bounded(seconds: float, megabytes: int):
    """Fails if the block takes longer, or allocates more at its peak, than allowed."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < megabytes * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"


def test_a_zip_bomb_is_refused_quickly_and_in_bounded_memory(bomb):
    with bounded(seconds=2, megabytes=16):
        threats = threats_of(bomb)
    assert threats == [
        "A file in the archive expands more than 100 times its compressed size (a zip bomb)."
    ]


def test_a_member_lying_about_its_size_is_refused_by_the_decompression_cap():
    lying = samples.lying_zip()  # declares 1,000 bytes, inflates to 256 MiB
    with bounded(seconds=2, megabytes=16):
        threats = threats_of(lying)
    assert threats == [
        "A file in the archive expands beyond the size its header declares (a zip bomb)."
    ]


def test_the_decompression_cap_holds_even_when_the_declared_checks_are_off(bomb):
    permissive = archives.ArchiveLimits(
        max_ratio=10**9, max_member=2 * 1024**3, max_total=2 * 1024**3
    )
    archive = archives.SafeZip(bomb, limits=permissive)
    (info,) = archive.infos
    produced = 0
    limits = archives.ArchiveLimits(max_member=8 * 1024 * 1024, max_ratio=10**9)
    capped = archives.SafeZip(bomb, limits=permissive)
    capped.limits = limits  # the declared size passed; the stream must still stop at the cap
    with bounded(seconds=2, megabytes=16), pytest.raises(archives.ArchiveRefused):
        for chunk in capped.stream(info):
            produced += len(chunk)
    assert produced <= 8 * 1024 * 1024 + 64 * 1024
    assert archive.infos[0].file_size == 1024**3


def test_a_spread_out_bomb_is_refused_by_the_overall_ratio():
    assert threats_of(samples.spread_bomb()) == [
        "The archive expands more than 100 times its size (a zip bomb)."
    ]


def test_overlapping_entries_are_refused():
    assert threats_of(samples.overlapping_zip()) == [
        "The archive's files overlap each other (a zip bomb)."
    ]


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/cron.d/evil",
        "/etc/passwd",
        "C:/Windows/evil.dll",
        "a/../../b.txt",
        "..\\..\\evil.txt",
    ],
)
def test_names_escaping_the_extraction_folder_are_refused(name):
    assert threats_of(samples.traversal_zip(name)) == [
        "The archive has a file whose name would place it outside the folder it is extracted to."
    ]


def test_password_protected_members_links_and_damaged_archives_are_refused():
    assert threats_of(samples.encrypted_zip()) == [
        "The archive has password-protected files, which can't be checked."
    ]
    assert threats_of(samples.symlink_zip()) == [
        "The archive has links to other files, which aren't allowed."
    ]
    good = samples.zip_archive({"a.txt": b"minutes " * 100})
    renamed = good.replace(b"a.txt", b"b.txt", 1)  # the local header only
    assert threats_of(renamed) == ["The archive is damaged: its file names don't agree."]
    crc_at = good.index(b"PK\x01\x02") + 16
    wrong_crc = good[:crc_at] + bytes([good[crc_at] ^ 1]) + good[crc_at + 1 :]
    assert threats_of(wrong_crc) == [
        "The archive is damaged: a file in it doesn't match its header."
    ]


def test_an_archive_compressed_in_a_way_zipfile_cannot_read_is_refused():
    stored = samples.zip_archive({"a.txt": b"minutes " * 100}, compression=zipfile.ZIP_STORED)
    central = stored.index(b"PK\x01\x02")
    deflate64 = bytearray(stored)
    deflate64[8:10] = deflate64[central + 10 : central + 12] = (9).to_bytes(2, "little")
    assert threats_of(bytes(deflate64)) == [
        "The archive is damaged, or compressed in a way the scanner can't read."
    ]


def test_archives_nest_two_deep_at_most():
    assert threats_of(samples.nested_zip(2)) == []
    assert threats_of(samples.nested_zip(3)) == ["Archives nested more than 2 deep."]


def test_member_count_and_total_size_are_limited():
    five = samples.zip_archive({f"{i}.txt": b"minutes" for i in range(5)})
    assert threats_of(five, limits=archives.ArchiveLimits(max_members=4)) == [
        "The archive holds more than 4 files."
    ]
    assert threats_of(five, limits=archives.ArchiveLimits(max_members=5)) == []
    big = samples.zip_archive({"a.txt": bytes(3000), "b.txt": bytes(3000)})
    assert threats_of(big, limits=archives.ArchiveLimits(max_total=5000, ratio_floor=10**9)) == [
        "The archive would expand to more than 0 MB."
    ]
    assert threats_of(big, limits=archives.ArchiveLimits(max_member=2000, ratio_floor=10**9)) == [
        "A file in the archive is larger than 0 MB."
    ]


# --- clamd --------------------------------------------------------------------------------------
# A real clamd (Debian's clamav-daemon) with the tests' own signatures
# (tests/documents/clamd_server.py): one for the module, and one of a test's own for the tests
# that pause or stop it.


def _running_clamd(folder: Path) -> Iterator[ClamdServer]:
    reason = clamd_unavailable_reason()
    if reason:
        service_unavailable(f"clamd (ClamAV) cannot run: {reason}")
    server = start_clamd(folder)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdServer]:
    yield from _running_clamd(tmp_path_factory.mktemp("clamd"))


@pytest.fixture
def own_clamd(tmp_path) -> Iterator[ClamdServer]:
    yield from _running_clamd(tmp_path / "clamd")


def closed_port_address() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"127.0.0.1:{port}"


def address_of(server: ClamdServer, transport: str) -> str:
    return {
        "tcp": server.tcp_address,
        "unix": server.socket_path,
        "unix-prefixed": f"unix:{server.socket_path}",
    }[transport]


@pytest.mark.parametrize("transport", ["tcp", "unix", "unix-prefixed"])
def test_real_clamd_finds_its_signatures_and_passes_clean_bytes(clamd, transport):
    address = address_of(clamd, transport)
    assert clamd_client.clamd_scan(
        address, [b"Minutes of the meeting"]
    ) == clamd_client.ClamdResult(infected=False)
    assert clamd_client.clamd_scan(address, [samples.eicar()]) == clamd_client.ClamdResult(
        infected=True, signature=EICAR_SIGNATURE
    )
    assert clamd_client.clamd_scan(address, [b"Minutes ", MARKER]) == clamd_client.ClamdResult(
        infected=True, signature=MARKER_SIGNATURE
    )


def test_real_clamd_gets_the_stream_whole_across_chunk_boundaries(clamd):
    # The EICAR signature is a hash of exactly those 68 bytes: sent a byte at a time (and
    # with empty pieces, which must not end the stream), a byte lost, repeated or moved at
    # any boundary makes it miss.
    eicar = samples.eicar()
    pieces = [b""] + [eicar[i : i + 1] for i in range(len(eicar))] + [b""]
    assert clamd_client.clamd_scan(clamd.tcp_address, pieces).signature == EICAR_SIGNATURE
    # One piece larger than the client's chunk, with the marker across its cut; then the
    # marker also cut in two by the caller's pieces.
    chunk = clamd_client.ClamdStream.CHUNK
    data = b"a" * (chunk - 10) + MARKER + b"b" * (chunk + 1000)
    assert clamd_client.clamd_scan(clamd.tcp_address, [data]).signature == MARKER_SIGNATURE
    middle = chunk - 10 + len(MARKER) // 2
    assert (
        clamd_client.clamd_scan(clamd.tcp_address, [data[:middle], data[middle:]]).signature
        == MARKER_SIGNATURE
    )
    assert clamd_client.clamd_scan(
        clamd.tcp_address, [data.replace(MARKER, b"c" * len(MARKER))]
    ) == (clamd_client.ClamdResult(infected=False))


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_real_clamd_refuses_a_stream_over_its_limit_and_it_is_never_clean(clamd, transport):
    address = address_of(clamd, transport)
    assert clamd_client.clamd_scan(address, [b"a" * STREAM_MAX_LENGTH]).infected is False
    # One byte over: clamd answers and closes before or while the client sends its end of
    # stream. Far over: it closes while the client is still sending. A marker past the limit
    # is never scanned, so OK would be a lie. Repeated: which happens first varies by run.
    over = [
        b"a" * STREAM_MAX_LENGTH + b"b",
        b"a" * STREAM_MAX_LENGTH + MARKER,
        b"a" * (3 * STREAM_MAX_LENGTH),
    ]
    for data in over * 5:
        with pytest.raises(clamd_client.ClamdError, match=r"^INSTREAM size limit exceeded"):
            clamd_client.clamd_scan(address, [data])
    # And for certain: the end of stream sent only once clamd has answered and hung up.
    stream = clamd_client.ClamdStream(address)
    stream.send(b"a" * STREAM_MAX_LENGTH + b"b")
    hung_up = select.poll()
    hung_up.register(stream.sock, select.POLLRDHUP)
    assert hung_up.poll(5000)
    with pytest.raises(clamd_client.ClamdError, match=r"^INSTREAM size limit exceeded"):
        stream.finish()


def test_a_real_clamd_that_stops_answering_is_never_a_clean_result(own_clamd):
    own_clamd.pause()  # its sockets still accept connections; nothing answers them
    try:
        for address in (own_clamd.tcp_address, own_clamd.socket_path):
            started = time.monotonic()
            with pytest.raises(clamd_client.ClamdUnavailable, match="did not answer in time"):
                clamd_client.clamd_scan(address, [b"Minutes"], timeout=0.3)
            assert time.monotonic() - started < 3
    finally:
        own_clamd.resume()
    assert clamd_client.clamd_scan(own_clamd.tcp_address, [MARKER]).signature == MARKER_SIGNATURE


def test_a_real_clamd_stopped_mid_stream_or_gone_is_never_a_clean_result(own_clamd):
    stream = clamd_client.ClamdStream(own_clamd.tcp_address)
    stream.send(b"Minutes of the meeting. " * 1000)
    own_clamd.stop()
    stream.send(b"More minutes. " * 1000)
    # Closed without an answer, or (clamd 1.4 stopping in the middle of reading a stream,
    # some runs) "PROTOCOL ERROR: ancillary data sent without FILDES. ERROR".
    with pytest.raises((clamd_client.ClamdUnavailable, clamd_client.ClamdError)):
        stream.finish()
    for address in (own_clamd.tcp_address, own_clamd.socket_path):
        with pytest.raises(clamd_client.ClamdUnavailable, match="could not be reached"):
            clamd_client.clamd_scan(address, [b"Minutes"])
    with pytest.raises(clamd_client.ClamdUnavailable, match="could not be reached"):
        clamd_client.clamd_scan(closed_port_address(), [b"Minutes"])


@pytest.mark.parametrize(
    "reply", [b"stream: maybe\x00", b"UNKNOWN COMMAND\x00", b"stream: ERROR\x00"]
)
def test_answers_clamd_never_gives_are_errors_never_a_clean_result(reply):
    # No real daemon can be made to send these: the parser is tested alone.
    with pytest.raises(clamd_client.ClamdError):
        clamd_client.parse_reply(reply)


# --- The scan, end to end ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_clamd(settings):
    settings.CLAMD_ADDRESS = ""


def stored(records_request, data: bytes, *, filename: str, mime: str | None = None) -> Document:
    """A quarantined document whose original is stored encrypted by the real service."""
    if mime is None:
        detected = types.detect(data[:8192], filename=filename)
        mime = detected.mime if detected is not None else "application/octet-stream"
    with agency_context(records_request.agency_id):
        document = Document.objects.create(
            agency_id=records_request.agency_id,
            request=records_request,
            filename=filename,
            content_type=mime,
            size=len(data),
        )
        versions.version_create(
            document=document, kind=VersionKind.ORIGINAL, chunks=[data], actor=None
        )
    return document


def scanned(document: Document) -> tuple[Document, list[Finding]]:
    tasks.scan_document(agency_id=document.agency_id, document_id=document.pk)
    with agency_context(document.agency_id):
        document.refresh_from_db()
        findings = list(
            Finding.objects.filter(agency=document.agency_id, document=document).order_by("pk")
        )
    return document, findings


def scan_events(document: Document) -> list[AuditEvent]:
    with agency_context(document.agency_id):
        return list(
            AuditEvent.objects.filter(
                action="document.scanned", target_id=str(document.pk)
            ).order_by("pk")
        )


def stored_values(rows: list[models.Model]) -> str:
    return " ".join(str(getattr(row, f.attname)) for row in rows for f in row._meta.concrete_fields)


def test_a_scan_records_masked_findings_status_and_an_audit_event_without_values(
    records_request,
):
    data = samples.pdf(
        [f"Applicant SSN {samples.SSN}", f"Card {samples.CARD}"],
        invisible=f"email {samples.EMAIL}",
        annotation=f"Call {samples.PHONE}",
    )
    document = stored(records_request, data, filename="application.pdf")
    assert document.status == DocumentStatus.QUARANTINED
    document, findings = scanned(document)
    assert document.status == DocumentStatus.CLEAN
    assert document.scanned_at is not None
    assert {(f.kind, f.excerpt, f.page) for f in findings} == {
        ("ssn", samples.SSN_MASKED, 1),
        ("card", samples.CARD_MASKED, 1),
        ("email", samples.EMAIL_MASKED, 1),
        ("phone", samples.PHONE_MASKED, 1),
    }
    everything = stored_values(findings) + document.status_detail
    for secret in (
        samples.SSN,
        "123456789",
        "4242424242424242",
        samples.CARD,
        samples.EMAIL,
        "234-1234",
    ):
        assert secret not in everything
    (event,) = scan_events(document)
    assert event.details["outcome"] == "scanned"
    assert event.details["findings"] == {"card": 1, "email": 1, "phone": 1, "ssn": 1}
    assert samples.SSN not in str(event.details) and "6789" not in str(event.details)


def test_the_scan_stores_the_sha256_when_the_version_has_none(records_request):
    import hashlib

    data = samples.pdf("Minutes")
    document = stored(records_request, data, filename="minutes.pdf")
    with agency_context(document.agency_id):
        version = document.versions.get()
        type(version).objects.filter(pk=version.pk).update(sha256="")
    scanned(document)
    with agency_context(document.agency_id):
        version.refresh_from_db()
    assert version.sha256 == hashlib.sha256(data).hexdigest()


def test_rescanning_replaces_open_findings_and_keeps_resolved_ones(records_request, tenant):
    data = samples.xlsx(hidden_sheet=samples.SSN, comment=f"mail {samples.EMAIL}")
    document = stored(records_request, data, filename="budget.xlsx")
    _, first = scanned(document)
    assert sorted(f.kind for f in first) == ["email", "ssn"]
    ssn = next(f for f in first if f.kind == "ssn")
    with agency_context(document.agency_id):
        release.finding_resolve(finding=ssn, actor=tenant.staff, resolution="not personal")
    document, second = scanned(document)
    assert sorted(f.kind for f in second) == ["email", "ssn"]  # no duplicates
    kept = next(f for f in second if f.kind == "ssn")
    assert kept.pk == ssn.pk and kept.resolved_at is not None
    email = next(f for f in second if f.kind == "email")
    assert email.pk not in {f.pk for f in first}  # the open one was replaced
    assert len(scan_events(document)) == 2


def test_eicar_blocks_the_document_with_a_malware_finding(records_request):
    document = stored(records_request, samples.eicar(), filename="test.txt")
    document, findings = scanned(document)
    assert document.status == DocumentStatus.BLOCKED
    assert document.status_detail == "Blocked: The EICAR antivirus test file."
    assert [(f.kind, f.location) for f in findings] == [("malware", "file")]
    (event,) = scan_events(document)
    assert event.details["outcome"] == "blocked by the malware scan"


def test_a_zip_bomb_document_is_blocked(records_request, bomb):
    document = stored(records_request, bomb, filename="budget.zip")
    started = time.monotonic()
    document, findings = scanned(document)
    assert time.monotonic() - started < 5
    assert document.status == DocumentStatus.BLOCKED
    assert "zip bomb" in document.status_detail
    assert [f.kind for f in findings] == ["malware"]


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (samples.encrypted_pdf, "protected with a password"),
        (samples.malformed_pdf, "damaged and can't be read"),
    ],
)
def test_encrypted_and_malformed_pdfs_fail_with_a_plain_message(records_request, build, words):
    document = stored(records_request, build(), filename="minutes.pdf")
    document, findings = scanned(document)
    assert document.status == DocumentStatus.FAILED
    assert words in document.status_detail
    assert findings == []
    assert scan_events(document)[0].details["outcome"] == "could not be read"


def test_a_changed_ciphertext_fails_the_scan_without_crashing(records_request):
    document = stored(records_request, samples.pdf("Minutes"), filename="minutes.pdf")
    with agency_context(document.agency_id):
        name = document.versions.get().storage_name
    path = documents_store("default").root / name
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))
    document, _ = scanned(document)
    assert document.status == DocumentStatus.FAILED
    assert document.status_detail == (
        "The stored file is damaged or was changed, so it can't be read. Upload it again."
    )


def test_destroyed_keys_fail_the_scan_without_crashing(records_request):
    document = stored(records_request, samples.pdf("Minutes"), filename="minutes.pdf")
    with agency_context(document.agency_id):
        keys.destroy_agency_keys(document.agency_id)
    document, _ = scanned(document)
    assert document.status == DocumentStatus.FAILED
    assert "keys are no longer available" in document.status_detail


def test_a_missing_blob_fails_the_scan(records_request):
    document = stored(records_request, samples.pdf("Minutes"), filename="minutes.pdf")
    with agency_context(document.agency_id):
        documents_store("default").delete(document.versions.get().storage_name)
    document, _ = scanned(document)
    assert document.status == DocumentStatus.FAILED
    assert document.status_detail == "The stored file is missing. Upload it again."


def test_anything_an_extractor_throws_ends_failed_and_the_worker_goes_on(
    records_request, monkeypatch
):
    def explode(self, data, **kwargs):
        raise RecursionError("deeply nested")

    monkeypatch.setattr(Extraction, "pdf", explode)
    document = stored(records_request, samples.pdf("Minutes"), filename="minutes.pdf")
    document, _ = scanned(document)
    assert document.status == DocumentStatus.FAILED
    assert "RecursionError" in document.status_detail
    monkeypatch.undo()
    other = stored(records_request, samples.pdf(f"SSN {samples.SSN}"), filename="next.pdf")
    other, findings = scanned(other)
    assert other.status == DocumentStatus.CLEAN and len(findings) == 1


def test_a_failing_part_of_a_file_is_a_note_and_the_rest_is_still_scanned(
    records_request, monkeypatch
):
    def broken(self, document, location):
        raise KeyError("/Annots")
        yield  # a generator, like the real one

    monkeypatch.setattr(Extraction, "_pdf_annotations", broken)
    data = samples.pdf(f"SSN {samples.SSN}", annotation="note")
    document, findings = scanned(stored(records_request, data, filename="minutes.pdf"))
    assert document.status == DocumentStatus.CLEAN
    assert document.status_detail == "The PDF's annotations could not be read (KeyError)."
    assert [f.kind for f in findings] == ["ssn"]


def test_personal_data_in_a_file_name_is_masked_in_the_location(records_request):
    archive = samples.zip_archive({f"jane {samples.SSN}.txt": f"SSN {samples.SSN}".encode()})
    document, findings = scanned(stored(records_request, archive, filename="files.zip"))
    assert document.status == DocumentStatus.CLEAN
    assert findings and all(samples.SSN not in f.location for f in findings)
    assert any(samples.SSN_MASKED in f.location for f in findings)


def test_a_file_above_the_memory_cap_is_checked_by_its_head_and_says_so(
    records_request, monkeypatch
):
    monkeypatch.setattr(scanner, "MAX_IN_MEMORY", 1000)
    text = f"SSN {samples.SSN}\n".encode() * 200
    document, findings = scanned(stored(records_request, text, filename="big.txt"))
    assert document.status == DocumentStatus.CLEAN
    assert "not checked for personal data" in document.status_detail
    assert findings == []
    archive = samples.zip_archive({f"{i}.txt": bytes(range(256)) * 8 for i in range(3)})
    document, _ = scanned(stored(records_request, archive, filename="big.zip"))
    assert document.status == DocumentStatus.FAILED
    assert "too large to open" in document.status_detail
    exe = samples.pe_executable() + bytes(4000)
    document, _ = scanned(stored(records_request, exe, filename="big.bin", mime="text/plain"))
    assert document.status == DocumentStatus.BLOCKED


def test_with_real_clamd_a_clean_document_is_marked_clean(records_request, clamd, settings):
    settings.CLAMD_ADDRESS = clamd.socket_path
    document, findings = scanned(
        stored(records_request, samples.pdf("Minutes"), filename="minutes.pdf")
    )
    assert (document.status, document.status_detail, findings) == (DocumentStatus.CLEAN, "", [])
    assert [e.details["outcome"] for e in scan_events(document)] == ["scanned"]


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("minutes.txt", b"Minutes of the meeting.\n" + MARKER + b"\n"),
        ("minutes.zip", samples.zip_archive({"minutes.txt": b"Minutes. " * 500 + MARKER})),
    ],
    ids=["text", "inside-a-zip"],
)
def test_with_real_clamd_a_document_only_clamd_recognises_is_blocked(
    records_request, clamd, settings, filename, data
):
    document = stored(records_request, data, filename=filename)
    document, _ = scanned(document)
    assert document.status == DocumentStatus.CLEAN  # the portal's own checks see nothing
    settings.CLAMD_ADDRESS = clamd.tcp_address
    document, findings = scanned(document)
    found = f"The antivirus scanner found {MARKER_SIGNATURE}."
    assert document.status == DocumentStatus.BLOCKED
    assert document.status_detail == f"Blocked: {found}"
    assert [(f.kind, f.location, f.excerpt) for f in findings] == [("malware", "file", found)]
    event = scan_events(document)[-1]
    assert event.details["outcome"] == "blocked by the malware scan"
    assert (event.details["status"], event.details["findings"]) == ("blocked", {"malware": 1})


def test_with_real_clamd_eicar_is_found_by_both_checks(records_request, clamd, settings):
    settings.CLAMD_ADDRESS = clamd.tcp_address
    document, findings = scanned(stored(records_request, samples.eicar(), filename="test.txt"))
    assert document.status == DocumentStatus.BLOCKED
    assert document.status_detail == (
        f"Blocked: The antivirus scanner found {EICAR_SIGNATURE}. (1 more problem(s) listed.)"
    )
    assert [f.excerpt for f in findings] == [
        f"The antivirus scanner found {EICAR_SIGNATURE}.",
        "The EICAR antivirus test file.",
    ]


def queued_retries(monkeypatch) -> list[dict]:
    queued: list[dict] = []
    monkeypatch.setattr(
        tasks.scan_document, "apply_async", lambda **options: queued.append(options)
    )
    return queued


def test_with_real_clamd_a_file_over_its_stream_limit_stays_quarantined(
    records_request, clamd, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CLAMD_ADDRESS = clamd.tcp_address
    data = b"Minutes of the meeting.\n" * (STREAM_MAX_LENGTH // 24 + 1)
    document = stored(records_request, data, filename="minutes.txt")
    queued = queued_retries(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        document, _ = scanned(document)
    assert document.status == DocumentStatus.QUARANTINED
    assert document.scanned_at is None
    assert document.status_detail.startswith(
        "The malware scanner (ClamAV) refused the file: INSTREAM size limit exceeded"
    )
    assert "The file stays quarantined until it is scanned" in document.status_detail
    assert [q["kwargs"]["attempt"] for q in queued] == [1]


def test_with_real_clamd_stopped_mid_scan_the_document_stays_quarantined_and_is_retried(
    records_request, own_clamd, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CLAMD_ADDRESS = own_clamd.tcp_address
    document = stored(records_request, b"Minutes. " * 50_000, filename="minutes.txt")
    read = versions.version_read

    def read_while_clamd_stops(version):
        for chunk in read(version):
            half = len(chunk) // 2
            yield chunk[:half]
            own_clamd.stop()
            yield chunk[half:]

    monkeypatch.setattr(versions, "version_read", read_while_clamd_stops)
    queued = queued_retries(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        document, _ = scanned(document)
    assert document.status == DocumentStatus.QUARANTINED
    assert document.scanned_at is None
    assert document.status_detail.startswith("The malware scanner (ClamAV) ")
    assert "The file stays quarantined until it is scanned" in document.status_detail
    assert [q["kwargs"]["attempt"] for q in queued] == [1]
    assert scan_events(document)[0].details["outcome"] == "not finished, will be tried again"


def test_with_clamd_unreachable_the_document_stays_quarantined_and_is_retried(
    records_request, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CLAMD_ADDRESS = closed_port_address()
    document = stored(records_request, samples.pdf("Minutes"), filename="minutes.pdf")
    queued = []
    monkeypatch.setattr(
        tasks.scan_document, "apply_async", lambda **options: queued.append(options)
    )
    with django_capture_on_commit_callbacks(execute=True):
        document, _ = scanned(document)
    assert document.status == DocumentStatus.QUARANTINED
    assert document.scanned_at is None
    assert document.status_detail.startswith(
        "The malware scanner (ClamAV) could not be reached. The file stays quarantined"
    )
    assert queued == [
        {
            "kwargs": {"agency_id": document.agency_id, "document_id": document.pk, "attempt": 1},
            "countdown": scanner.retry_delay(0),
        }
    ]
    assert scan_events(document)[0].details["outcome"] == "not finished, will be tried again"


def test_with_clamd_unreachable_malware_found_locally_still_blocks(records_request, settings):
    settings.CLAMD_ADDRESS = closed_port_address()
    document, _ = scanned(stored(records_request, samples.eicar(), filename="test.txt"))
    assert document.status == DocumentStatus.BLOCKED


def test_a_document_of_another_agency_is_not_scanned(records_request, other_tenant):
    document = stored(records_request, samples.eicar(), filename="test.txt")
    tasks.scan_document(agency_id=other_tenant.agency.pk, document_id=document.pk)
    with agency_context(document.agency_id):
        document.refresh_from_db()
    assert document.status == DocumentStatus.QUARANTINED
