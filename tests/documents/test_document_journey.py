"""The whole journey of a document, as the issue's "done when" describes it: a PDF with an
SSN is uploaded, scanned and flagged, redacted (the SSN gone from the output's text), released
to the public, found by the archive search, and downloaded by a resident through an expiring
link; every step is in the audit log."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from django.test import Client
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import access, release, versions
from documents.errors import DocumentError
from documents.models import Document, Finding, RedactionReason, ReleaseLevel
from requests_portal.services import submission as request_submission
from tests.documents.helpers import pdf_with_text

pytestmark = pytest.mark.django_db

SSN = "123-45-6789"
PDF = pdf_with_text(
    "Payroll summary for the Parks Department",
    f"Employee SSN {SSN} on the January payroll",
    "Budget figures for Main Street repaving",
)


def text_of(pdf: bytes) -> str:
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def actions(agency) -> list[str]:
    with agency_context(agency):
        return list(AuditEvent.objects.filter(agency=agency).values_list("action", flat=True))


@pytest.fixture
def records_request(tenant):
    with agency_context(tenant.agency):
        return request_submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Parks payroll records",
            description="Payroll of the parks department, January.",
            contact=request_submission.Contact(name="Pat Resident"),
            channel="web",
        )


def upload(client, records_request, data: bytes, filename: str) -> Document:
    base = f"/staff/requests/{records_request.number}/documents/"
    started = client.post(
        base + "uploads/",
        {"filename": filename, "size": len(data)},
        HTTP_ACCEPT="application/json",
    )
    assert started.status_code == 201, started.content
    upload_id = started.json()["id"]
    chunk = started.json()["chunk_size"]
    for index in range(0, max(1, -(-len(data) // chunk))):
        response = client.generic(
            "PUT",
            f"{base}uploads/{upload_id}/chunks/{index}",
            data[index * chunk : (index + 1) * chunk],
            content_type="application/octet-stream",
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 200, response.content
    done = client.post(f"{base}uploads/{upload_id}/complete/", HTTP_ACCEPT="application/json")
    assert done.status_code == 200, done.content
    with agency_context(records_request.agency_id):
        return Document.objects.get(public_id=done.json()["document"])


def test_upload_scan_redact_release_search_and_download(
    tenant, records_request, client_for, django_capture_on_commit_callbacks
):
    staff = client_for(tenant.publisher, tenant.host)

    # 1. Upload (resumable protocol); the scan runs once the upload commits.
    with django_capture_on_commit_callbacks(execute=True):
        document = upload(staff, records_request, PDF, "payroll.pdf")
    with agency_context(tenant.agency):
        document.refresh_from_db()
        assert document.status == "clean"
        (finding,) = Finding.objects.filter(document=document, kind="ssn")
        assert finding.excerpt.endswith("6789") and SSN not in finding.excerpt

    # 2. Flagged: the public release is refused while the finding is open.
    with agency_context(tenant.agency), pytest.raises(DocumentError, match="unresolved"):
        release.document_release(document=document, level="public", actor=tenant.publisher)

    # 3. Redact by pattern, with a reason, then apply (a background task).
    with agency_context(tenant.agency):
        reason = RedactionReason.objects.create(agency=tenant.agency, label="Privacy § 7927.700")
    redact_url = reverse(
        "staff:document_redact",
        kwargs={"number": records_request.number, "document_id": document.public_id},
    )
    response = staff.post(redact_url, {"action": "pattern", "kinds": ["ssn"], "reason": reason.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    applied_notice = "The redactions are applied."
    # The flag typed by hand before anything was applied says nothing.
    assert applied_notice not in staff.get(redact_url + "?applied=1").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(redact_url + "finalise/")
    assert response.status_code == 302
    page = staff.get(response["Location"]).content.decode()
    assert applied_notice in page and "being applied" not in page
    with agency_context(tenant.agency):
        document.refresh_from_db()
        assert not document.redaction_running, document.redaction_message
        redacted = access.released_version(document)
        assert redacted.kind == "redacted" and redacted.number == 2
        output = versions.version_bytes(redacted, limit=50 * 1024 * 1024)
        finding.refresh_from_db()
        assert finding.resolved_at is not None
        assert finding.resolution == "redacted in version 2"
    text = text_of(output)
    assert SSN not in text and "6789" not in text
    assert "Budget" in text  # the OCR layer restored the rest

    # 4. Release to the public (allowed now); its text feeds the archive search.
    release_url = reverse(
        "staff:document_release",
        kwargs={"number": records_request.number, "document_id": document.public_id},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(release_url, {"level": "public"})
    assert response.status_code == 302

    visitor = Client(HTTP_HOST=tenant.host)
    found = visitor.get(reverse("archive"), {"q": "repaving"})
    assert records_request.title.encode() in found.content  # only in the document's text
    missing = visitor.get(reverse("archive"), {"q": "6789"})
    assert records_request.title.encode() not in missing.content

    # 5. A resident downloads the redacted version through an expiring link.
    page = visitor.get(reverse("request_detail", args=[records_request.number]))
    assert b"payroll.pdf" in page.content
    link = visitor.post(
        reverse(
            "resident_document_link",
            kwargs={"number": records_request.number, "document_id": document.public_id},
        )
    )
    assert link.status_code == 303
    download = visitor.get(link["Location"])
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body == output
    assert SSN not in text_of(body)

    # Every step is in the audit log.
    trail = actions(tenant.agency)
    for action in (
        "document.uploaded",
        "document.scanned",
        "document.redaction_added",
        "document.redacted",
        "document.finding_resolved",
        "document.released",
        "document.link_issued",
        "document.downloaded",
    ):
        assert action in trail, action
    with agency_context(tenant.agency):
        document.refresh_from_db()
        assert document.release == ReleaseLevel.PUBLIC


def test_an_uploaded_eicar_file_is_blocked_and_never_released(
    tenant, records_request, client_for, django_capture_on_commit_callbacks
):
    from tests.documents import samples

    staff = client_for(tenant.publisher, tenant.host)
    with django_capture_on_commit_callbacks(execute=True):
        document = upload(staff, records_request, samples.eicar(), "notes.txt")
    with agency_context(tenant.agency):
        document.refresh_from_db()
        assert document.status == "blocked"
        assert Finding.objects.filter(document=document, kind="malware").exists()
        with pytest.raises(DocumentError, match="scanned"):
            release.document_release(document=document, level="requester", actor=tenant.publisher)
