"""Office documents turned into PDFs by the real LibreOffice (documents.redaction.convert), and
redacted through that PDF (documents.redaction.services), as staff do it.

LibreOffice is installed where these tests run (`scripts/ensure-system-packages test`);
without it they skip, or fail when REQUIRE_SERVICES=1. What a real LibreOffice can't be made
to do on demand (hang past the time limit) is tested with a fake `soffice` in
test_redaction.py. Every conversion starts LibreOffice afresh with a throw-away profile
(about 1.5 s each here); a document's conversion is made once and kept, so a test converts
once (a failed conversion is tried again when asked again: the damaged-file test runs two).
"""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from documents import access, types, versions
from documents.errors import RedactionRefused
from documents.models import Redaction, RedactionReason, VersionKind
from documents.redaction import convert, page_search, working
from documents.redaction import services as redaction_services
from tests.documents import samples
from tests.documents.helpers import stored_document
from tests.documents.redaction_helpers import (
    SSN_REGEX,
    need_tesseract,
    ocr_of_pixels,
    pdfium_text,
    recoverable,
    squash,
)
from tests.idp.fixtures import service_unavailable

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
SSN = samples.SSN
LINES = (
    "Payroll summary for the Parks Department",
    f"Employee SSN {SSN} on the January payroll",
    "Budget figures for Main Street repaving",
)


def need_libreoffice() -> None:
    if not convert.converter_available():
        service_unavailable(
            "LibreOffice (soffice) is not installed: `scripts/ensure-system-packages test` "
            "installs it"
        )


@pytest.fixture
def libreoffice() -> None:
    need_libreoffice()


@pytest.fixture
def private_temp(monkeypatch, tmp_path) -> Path:
    """Where the conversion's temporary folder goes (ours and LibreOffice's own, TMPDIR), so
    a test can check nothing of the plaintext is left behind."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(convert, "RAM_FOLDER", folder)  # the memory-backed folder's stand-in
    return folder


def files_under(folder) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def pptx(*lines: str) -> bytes:
    """A one-slide PowerPoint presentation with a text box (the zip written by hand; no
    master or layout, which LibreOffice does without)."""
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    paragraphs = "".join(
        f'<a:p><a:r><a:rPr lang="en-US" sz="2400"/><a:t>{samples._xml_escape(line)}</a:t>'
        "</a:r></a:p>"
        for line in lines
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    parts = {
        "[Content_Types].xml": (
            f'{head}<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/ppt/presentation.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>'
            '<Override PartName="/ppt/slides/slide1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.presentationml.slide+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{head}<Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{r}/officeDocument" Target="ppt/presentation.xml"/>'
            "</Relationships>"
        ),
        "ppt/presentation.xml": (
            f'{head}<p:presentation xmlns:p="{p}" xmlns:a="{a}" xmlns:r="{r}">'
            '<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
            '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
            "</p:presentation>"
        ),
        "ppt/_rels/presentation.xml.rels": (
            f'{head}<Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId2" Type="{r}/slide" Target="slides/slide1.xml"/>'
            "</Relationships>"
        ),
        "ppt/slides/slide1.xml": (
            f'{head}<p:sld xmlns:p="{p}" xmlns:a="{a}" xmlns:r="{r}"><p:cSld><p:spTree>'
            '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
            '<p:grpSpPr/><p:sp><p:nvSpPr><p:cNvPr id="2" name="Text"/><p:cNvSpPr txBox="1"/>'
            '<p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x="457200" y="457200"/>'
            '<a:ext cx="8229600" cy="3000000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
            f"</a:prstGeom></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>{paragraphs}"
            "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def odt(*lines: str) -> bytes:
    """samples.odt with the manifest every real OpenDocument file has (LibreOffice refuses
    a package without one; the scanner's sample does not need it)."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
        'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(samples.odt(*lines))) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for member in source.infolist():  # "mimetype" first and stored, as it was
            target.writestr(member, source.read(member.filename))
        target.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def corrupt_docx() -> bytes:
    """A Word document whose body part is not XML: the portal's own type check still calls
    it a .docx (its first entries are), so it reaches the converter."""
    good = samples.docx(*LINES)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            body = source.read(name)
            if name == "word/document.xml":
                body = b"<w:document><w:body>\x00\xff\xfe not xml " + bytes(range(256)) * 8
            target.writestr(name, body, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- The converter on its own --------------------------------------------------------------


@pytest.mark.parametrize(
    ("mime", "build"),
    [
        (DOCX, lambda: samples.docx(*LINES)),
        (
            XLSX,
            lambda: samples.xlsx(
                visible=LINES[0],
                header_cells={"A2": "Employee SSN", "B2": SSN, "A3": LINES[2]},
            ),
        ),
        (PPTX, lambda: pptx(*LINES)),
        ("application/vnd.oasis.opendocument.text", lambda: odt(*LINES)),
    ],
    ids=["docx", "xlsx", "pptx", "odt"],
)
def test_an_office_document_becomes_a_pdf_with_its_words(libreoffice, private_temp, mime, build):
    data = build()
    assert types.detect(data[:8192]).mime == mime  # what the upload would call it
    assert convert.can_convert(mime)
    started = time.perf_counter()
    pdf = convert.to_pdf(data, mime)
    elapsed = time.perf_counter() - started
    assert pdf.startswith(b"%PDF-")
    text = squash(pdfium_text(pdf))
    for words in ("Payroll summary for the Parks Department", "Main Street repaving", SSN):
        assert words.lower() in text, words
    # The number is where the pattern search finds it: one box, on the first page.
    found = page_search.find_pattern_boxes(pdf, {"ssn": SSN_REGEX})
    assert [(box.page, kind) for box, kind in found] == [(1, "ssn")]
    # Nothing of the plaintext (ours or LibreOffice's own temporary files) is left behind.
    assert files_under(private_temp) == []
    assert elapsed < 60


@pytest.mark.parametrize(
    "data",
    [corrupt_docx(), samples.docx(*LINES)[:300]],
    ids=["body-not-xml", "truncated"],
)
def test_a_damaged_word_document_is_a_plain_conversion_error(libreoffice, private_temp, data):
    with pytest.raises(convert.ConversionError, match=r"^The document could not be converted"):
        convert.to_pdf(data, DOCX)
    assert files_under(private_temp) == []


# --- Redacting an office document through its PDF --------------------------------------------


@pytest.fixture
def reason(tenant):
    with agency_context(tenant.agency):
        return RedactionReason.objects.create(agency=tenant.agency, label="Privacy")


def redact_url(document) -> str:
    return reverse(
        "staff:document_redact",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )


@pytest.mark.django_db
def test_an_ssn_in_a_word_document_is_redacted_and_the_rest_stays_searchable(
    libreoffice, tenant, records_request, reason
):
    need_tesseract()
    document = stored_document(
        records_request, samples.docx(*LINES), filename="payroll.docx", content_type=DOCX
    )
    with agency_context(tenant.agency):
        assert working.kind_of(document) == "convert"
        count = redaction_services.redaction_add_patterns(
            document=document, actor=tenant.publisher, reason=reason, kinds=["ssn"]
        )
        assert count == 1
        version = redaction_services.redaction_finalise(document=document, actor=tenant.publisher)
        output = versions.version_bytes(version, limit=50 * 1024 * 1024)
        kinds = [v.kind for v in access.versions(document).order_by("number")]
    assert kinds == [VersionKind.ORIGINAL, VersionKind.CONVERTED, VersionKind.REDACTED]
    assert version.content_type == "application/pdf"

    everything = recoverable(output)  # text, every object and stream, metadata
    for gone in (SSN, SSN.replace("-", "")):
        assert gone not in everything, gone
    assert SSN_REGEX.search(pdfium_text(output)) is None
    assert SSN not in ocr_of_pixels(output)  # nor in what a person can read on the page
    text = squash(pdfium_text(output))  # the OCR layer brings the rest back
    for word in ("payroll summary", "parks department", "main street repaving", "employee"):
        assert word in text, word


@pytest.mark.django_db
def test_the_redaction_page_offers_office_documents_when_the_converter_is_installed(
    libreoffice,
    tenant,
    records_request,
    reason,
    client_for,
    monkeypatch,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    document = stored_document(
        records_request, samples.docx(*LINES), filename="payroll.docx", content_type=DOCX
    )
    client = client_for(tenant.publisher, tenant.host)
    url = redact_url(document)
    refused = "can&#x27;t be redacted here"  # convert.UNAVAILABLE_MESSAGE, escaped
    preview = reverse(
        "staff:document_page_image",
        kwargs={
            "number": records_request.number,
            "document_id": document.public_id,
            "page": 1,
        },
    )

    with monkeypatch.context() as without:
        without.setenv("PATH", str(tmp_path))  # no LibreOffice on this PATH
        page = client.get(url).content.decode()
    assert refused in page

    # The conversion is the worker's job, started once: the web process never runs it.
    runs = []
    real_to_pdf = convert.to_pdf
    monkeypatch.setattr(convert, "to_pdf", lambda *a, **k: runs.append(1) or real_to_pdf(*a, **k))
    with django_capture_on_commit_callbacks(execute=False) as started:
        first = client.get(url).content.decode()
        again = client.get(url).content.decode()
        early_preview = client.get(preview)
        early_search = client.post(
            url, {"action": "search", "term": "payroll", "reason": reason.pk}
        )
    assert "Preparing this document for redaction" in first
    assert "Preparing this document for redaction" in again
    assert '<meta http-equiv="refresh"' in first
    assert early_preview.status_code == 404
    assert early_search.status_code == 400
    assert "Preparing this document for redaction" in early_search.content.decode()
    assert runs == [] and len(started) == 1
    with agency_context(tenant.agency):
        assert not Redaction.objects.filter(document=document).exists()

    started[0]()  # the worker runs the task
    assert runs == [1]
    page = client.get(url).content.decode()
    assert refused not in page and "Preparing" not in page
    assert "Page 1 of payroll.docx" in page  # the converted page's preview
    assert "Personal data" in page and "Every occurrence of a word" in page
    assert client.get(preview).content.startswith(b"\x89PNG")
    assert runs == [1]  # made once and kept


@pytest.mark.django_db
def test_a_damaged_word_document_is_refused_plainly_and_leaves_nothing_behind(
    libreoffice, tenant, records_request, reason, client_for, settings, private_temp, monkeypatch
):
    document = stored_document(
        records_request, corrupt_docx(), filename="broken.docx", content_type=DOCX
    )
    stored = files_under(settings.DOCUMENTS_LOCAL_ROOT)
    with (
        agency_context(tenant.agency),
        pytest.raises(
            RedactionRefused,
            match=r"^The document could not be converted to PDF\.$",
        ),
    ):
        redaction_services.redaction_add_patterns(
            document=document, actor=tenant.publisher, reason=reason, kinds=["ssn"]
        )

    # The refusal is remembered: the page does not run the converter again.
    runs = []
    real_to_pdf = convert.to_pdf
    monkeypatch.setattr(convert, "to_pdf", lambda *a, **k: runs.append(1) or real_to_pdf(*a, **k))
    client = client_for(tenant.publisher, tenant.host)
    response = client.get(redact_url(document))
    assert response.status_code == 200
    assert "The document could not be converted to PDF." in response.content.decode()
    assert runs == []

    with agency_context(tenant.agency):
        assert [v.kind for v in access.versions(document)] == [VersionKind.ORIGINAL]
        assert not Redaction.objects.filter(document=document).exists()
    assert files_under(settings.DOCUMENTS_LOCAL_ROOT) == stored  # no orphan blob
    assert files_under(private_temp) == []


def test_without_libreoffice_these_tests_skip_or_fail_when_services_are_required(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="LibreOffice"):
        need_libreoffice()
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_SERVICES=1"):
        need_libreoffice()


@pytest.mark.django_db
def test_a_file_too_large_to_convert_says_so_instead_of_preparing_for_ever(
    libreoffice,
    tenant,
    records_request,
    client_for,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    document = stored_document(
        records_request, samples.docx(*LINES), filename="huge.docx", content_type=DOCX
    )
    monkeypatch.setattr(working, "MAX_REDACTION_BYTES", 100)
    client = client_for(tenant.publisher, tenant.host)
    url = redact_url(document)

    with django_capture_on_commit_callbacks(execute=True) as started:
        client.get(url)  # starts the conversion, which the worker refuses
    assert len(started) == 1

    with django_capture_on_commit_callbacks(execute=False) as again:
        page = client.get(url).content.decode()
    assert "Preparing" not in page
    assert "too large to process here" in page
    assert again == []  # remembered: no new conversion is started


def test_libreoffice_unpacked_by_herokus_apt_buildpack_is_found(tmp_path, monkeypatch):
    """On a dyno the apt buildpack's usr/bin/soffice is a link to /usr/lib/...,
    outside the slug; the program itself is in ~/.apt's LibreOffice folder."""
    bin_folder, program = tmp_path / "bin", tmp_path / convert.APT_PROGRAM_FOLDER / "soffice"
    bin_folder.mkdir()
    (bin_folder / "soffice").symlink_to("/nonexistent/libreoffice/program/soffice")
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_folder))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert convert.converter_path() == str(program)
    program.chmod(0o644)
    assert convert.converter_path() is None
