"""Uploading documents: the resumable protocol (upload.js), the file form without JavaScript
(encrypted as it arrives), requester uploads, and who may touch an upload.

The upload URL lists are mounted by tests/documents/upload_test_urls.py until the project's
URL configuration mounts them itself.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadhandler import SkipFile
from django.urls import reverse

from accounts.jobs import Job
from accounts.models import FormSubmission
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import tasks, types, versions
from documents.models import (
    Document,
    DocumentSettings,
    DocumentStatus,
    DocumentVersion,
    Upload,
    UploadChunk,
    UploadStatus,
)
from documents.upload import handlers as upload_handlers
from documents.upload import services as upload_services
from documents.upload import views as upload_views
from requests_portal.models import Department, RecordsRequest
from requests_portal.services import submission as request_submission
from requests_portal.tracking import tracking_token
from vault import storage

pytestmark = pytest.mark.urls("tests.documents.upload_test_urls")

KIB = 1024
CHUNK = 128 * KIB  # two 64 KiB segments: a multi-chunk upload stays small
JSON = {"HTTP_ACCEPT": "application/json"}
MARKER = b"SSN 123-45-6789 of Jane Q. Resident; "


# --- Fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    """Small chunks keep multi-chunk uploads fast (each Upload keeps the chunk size it was
    started with). Storage and keys are in temporary folders (tests/conftest.py)."""
    settings.DOCUMENT_CHUNK_SIZE = CHUNK


def pdf(size: int) -> bytes:
    """A file the type check takes for a PDF, with personal data all through it."""
    head = b"%PDF-1.7\n"
    body = (MARKER * (size // len(MARKER) + 1))[: size - len(head)]
    return head + body


EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html>\n<html><head><script>alert(document.cookie)</script></head></html>\n"


def file_request(tenant, *, requester=None) -> RecordsRequest:
    with agency_context(tenant.agency):
        clerk = Department.objects.get(agency=tenant.agency, name="Clerk")
        return request_submission.request_submit(
            agency=tenant.agency,
            actor=requester,
            title="Police overtime records, 2025",
            description="All overtime slips.",
            contact=request_submission.Contact(name="Jane Resident"),
            department=clerk,
            channel="web",
        )


@pytest.fixture
def records_request(tenant) -> RecordsRequest:
    return file_request(tenant)


def document_settings(tenant, **values) -> None:
    with agency_context(tenant.agency):
        DocumentSettings.objects.update_or_create(agency=tenant.agency, defaults=values)


def staff_url(name: str, number: str, *args) -> str:
    return reverse(f"staff:document_{name}", args=[number, *args])


def resident_url(name: str, number: str, *args) -> str:
    return reverse(f"resident_document_{name}", args=[number, *args])


def start(client, url: str, filename: str, size: int):
    return client.post(url, {"filename": filename, "size": size}, **JSON)


def put(client, base: str, upload_id: str, index: int, data: bytes):
    return client.put(
        f"{base}{upload_id}/chunks/{index}", data, content_type="application/octet-stream", **JSON
    )


def parts(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def scan_calls(callbacks) -> list[dict]:
    """The keyword arguments of the scans queued by these on-commit callbacks
    (accounts.jobs.Job)."""
    return [
        cb.kwargs
        for cb in callbacks
        if isinstance(cb, Job) and cb.task_name == tasks.scan_document.name
    ]


def events(tenant, action: str) -> list[AuditEvent]:
    with agency_context(tenant.agency):
        return list(AuditEvent.objects.filter(agency=tenant.agency, action=action).order_by("pk"))


def rows(tenant, model, **filters) -> list:
    with agency_context(tenant.agency):
        return list(model.objects.filter(agency=tenant.agency, **filters))


def stored_blobs(settings) -> list[Path]:
    root = Path(settings.DOCUMENTS_LOCAL_ROOT)
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and ".parts" not in p.parts]


def open_parts(settings) -> list[Path]:
    folder = Path(settings.DOCUMENTS_LOCAL_ROOT) / ".parts"
    return list(folder.iterdir()) if folder.exists() else []


def plaintext_of(tenant, document: Document) -> bytes:
    with agency_context(tenant.agency):
        version = DocumentVersion.objects.get(agency=tenant.agency, document=document, number=1)
        return b"".join(versions.version_read(version))


def upload_all(client, base: str, filename: str, data: bytes, *, complete=True):
    response = start(client, base, filename, len(data))
    assert response.status_code == 201, response.content
    upload_id = response.json()["id"]
    for index, part in enumerate(parts(data)):
        answer = put(client, base, upload_id, index, part)
        assert answer.status_code == 200, answer.content
    if complete:
        finished = client.post(f"{base}{upload_id}/complete/", **JSON)
        assert finished.status_code == 200, finished.content
        return upload_id, finished.json()
    return upload_id, None


@pytest.fixture
def staff(tenant, client_for):
    return client_for(tenant.staff, tenant.host)


# --- The resumable protocol ------------------------------------------------------------------


def test_a_multi_chunk_upload_end_to_end_stores_only_ciphertext_that_decrypts_exactly(
    tenant, records_request, staff, settings, django_capture_on_commit_callbacks
):
    number = records_request.number
    base = staff_url("upload_start", number)
    data = pdf(2 * CHUNK + 1000)  # three chunks, the last one short

    response = start(staff, base, "Overtime slips.pdf", len(data))
    assert response.status_code == 201
    body = response.json()
    assert body["chunk_size"] == CHUNK and body["received"] == 0 and body["size"] == len(data)
    upload_id = body["id"]

    received = []
    for index, part in enumerate(parts(data)):
        answer = put(staff, base, upload_id, index, part)
        assert answer.status_code == 200
        received.append(answer.json()["received"])
    assert received == [CHUNK, 2 * CHUNK, len(data)]
    status = staff.get(f"{base}{upload_id}/", **JSON).json()
    assert (status["received"], status["size"]) == (len(data), len(data))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        finished = staff.post(f"{base}{upload_id}/complete/", **JSON)
    assert finished.status_code == 200
    result = finished.json()
    assert result["redirect"] == reverse("staff:request_detail", args=[number])

    [document] = rows(tenant, Document, public_id=result["document"])
    assert document.status == DocumentStatus.QUARANTINED
    assert (document.filename, document.content_type) == ("Overtime slips.pdf", "application/pdf")
    assert document.uploaded_by_id == tenant.staff.pk and not document.uploaded_by_requester
    assert scan_calls(callbacks) == [{"agency_id": tenant.agency.pk, "document_id": document.pk}]

    [blob] = stored_blobs(settings)
    ciphertext = blob.read_bytes()
    assert MARKER not in ciphertext and b"%PDF" not in ciphertext
    assert plaintext_of(tenant, document) == data
    assert open_parts(settings) == []
    [upload] = rows(tenant, Upload)
    assert upload.status == UploadStatus.COMPLETE
    assert rows(tenant, UploadChunk) == []
    [event] = events(tenant, "document.uploaded")
    assert event.actor_id == tenant.staff.pk
    assert event.details["filename"] == "Overtime slips.pdf"
    # A finished upload is closed: nothing more can be sent to it.
    assert put(staff, base, upload_id, 0, parts(data)[0]).status_code == 404


def test_a_repeated_chunk_is_accepted_when_the_same_and_refused_when_changed(
    tenant, records_request, staff
):
    base = staff_url("upload_start", records_request.number)
    data = pdf(2 * CHUNK + 10)
    upload_id = start(staff, base, "a.pdf", len(data)).json()["id"]
    first, second, last = parts(data)
    assert put(staff, base, upload_id, 0, first).json()["received"] == CHUNK

    again = put(staff, base, upload_id, 0, first)
    assert again.status_code == 200 and again.json()["received"] == CHUNK

    changed = put(staff, base, upload_id, 0, b"%PDF-1.7\n" + bytes(CHUNK - 9))
    assert changed.status_code == 400
    assert changed.json() == {"error": "That part of the file differs from the one received."}

    for index, part in ((1, second), (2, last)):
        assert put(staff, base, upload_id, index, part).status_code == 200
    result = staff.post(f"{base}{upload_id}/complete/", **JSON).json()
    [document] = rows(tenant, Document, public_id=result["document"])
    assert plaintext_of(tenant, document) == data


def test_chunks_out_of_order_or_of_the_wrong_size_are_refused(tenant, records_request, staff):
    base = staff_url("upload_start", records_request.number)
    data = pdf(2 * CHUNK + 10)
    upload_id = start(staff, base, "a.pdf", len(data)).json()["id"]

    skipped = put(staff, base, upload_id, 1, parts(data)[1])
    assert skipped.status_code == 400
    assert skipped.json() == {"error": "Send part 1 of the file next."}
    short = put(staff, base, upload_id, 0, data[: CHUNK - 1])
    assert short.status_code == 400
    assert short.json() == {"error": "That part of the file has the wrong size."}
    assert rows(tenant, UploadChunk) == []


def test_a_chunk_larger_than_the_chunk_size_is_refused_before_it_is_read(
    tenant, records_request, staff
):
    base = staff_url("upload_start", records_request.number)
    upload_id = start(staff, base, "a.pdf", 3 * CHUNK).json()["id"]
    response = put(staff, base, upload_id, 0, pdf(CHUNK + 1))
    assert response.status_code == 413
    assert "at most" in response.json()["error"]
    assert rows(tenant, UploadChunk) == []


def test_completing_before_every_chunk_arrived_is_refused_and_the_upload_resumes(
    tenant, records_request, staff
):
    base = staff_url("upload_start", records_request.number)
    data = pdf(2 * CHUNK + 500)
    first, second, last = parts(data)
    upload_id = start(staff, base, "a.pdf", len(data)).json()["id"]
    put(staff, base, upload_id, 0, first)
    put(staff, base, upload_id, 1, second)

    early = staff.post(f"{base}{upload_id}/complete/", **JSON)
    assert early.status_code == 400
    assert early.json() == {"error": "Some of the file has not arrived yet."}
    assert rows(tenant, Document) == []

    # The page reloads or the connection drops: the status says where to go on.
    status = staff.get(f"{base}{upload_id}/", **JSON).json()
    assert status["received"] == 2 * CHUNK
    assert staff.get(f"{base}{upload_id}/chunks/1", **JSON).json()["stored"] is True
    assert staff.get(f"{base}{upload_id}/chunks/2", **JSON).json()["stored"] is False
    assert put(staff, base, upload_id, 2, last).status_code == 200
    result = staff.post(f"{base}{upload_id}/complete/", **JSON).json()
    [document] = rows(tenant, Document, public_id=result["document"])
    assert plaintext_of(tenant, document) == data


def test_an_empty_chunk_after_the_whole_file_does_not_corrupt_it(tenant, records_request, staff):
    # A file of exactly two chunks: a third, empty "chunk" used to be accepted and sealed as
    # a second final segment, and the stored document then failed to decrypt.
    base = staff_url("upload_start", records_request.number)
    data = pdf(2 * CHUNK)
    upload_id, _ = upload_all(staff, base, "a.pdf", data, complete=False)

    extra = put(staff, base, upload_id, 2, b"")
    assert extra.status_code == 400
    result = staff.post(f"{base}{upload_id}/complete/", **JSON).json()
    [document] = rows(tenant, Document, public_id=result["document"])
    assert plaintext_of(tenant, document) == data


def test_an_upload_can_be_cancelled(tenant, records_request, staff, settings):
    base = staff_url("upload_start", records_request.number)
    data = pdf(2 * CHUNK)
    upload_id = start(staff, base, "a.pdf", len(data)).json()["id"]
    put(staff, base, upload_id, 0, parts(data)[0])
    assert open_parts(settings)

    response = staff.post(f"{base}{upload_id}/cancel/", **JSON)
    assert response.json() == {"cancelled": True}
    assert open_parts(settings) == []
    [upload] = rows(tenant, Upload)
    assert upload.status == UploadStatus.ABANDONED
    assert staff.get(f"{base}{upload_id}/", **JSON).status_code == 404


def test_a_file_over_the_agency_limit_or_empty_is_refused_at_the_start(
    tenant, records_request, staff, settings
):
    document_settings(tenant, max_upload_mb=1)
    base = staff_url("upload_start", records_request.number)

    large = start(staff, base, "huge.pdf", 1024 * 1024 + 1)
    assert large.status_code == 400
    assert large.json() == {"error": "This file is larger than the 1 MB this agency accepts."}
    empty = start(staff, base, "nothing.pdf", 0)
    assert empty.json() == {"error": "This file is empty."}
    missing = start(staff, base, "", 10)
    assert missing.json() == {"error": "Choose a file to upload."}

    assert rows(tenant, Upload) == []
    assert stored_blobs(settings) == [] and open_parts(settings) == []
    reasons = [e.details["reason"] for e in events(tenant, "document.upload_refused")]
    assert reasons == ["too large", "empty"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(EXECUTABLE, id="executable-renamed-pdf"),
        pytest.param(HTML, id="html"),
    ],
)
def test_a_file_of_a_refused_type_is_refused_on_its_first_chunk_and_abandoned(
    content, tenant, records_request, staff, settings
):
    base = staff_url("upload_start", records_request.number)
    upload_id = start(staff, base, "minutes.pdf", len(content)).json()["id"]
    assert len(open_parts(settings)) == 1

    response = put(staff, base, upload_id, 0, content)
    assert response.status_code == 400
    assert response.json() == {"error": types.REFUSAL_MESSAGE}
    [upload] = rows(tenant, Upload)
    assert upload.status == UploadStatus.ABANDONED
    assert open_parts(settings) == [] and stored_blobs(settings) == []
    assert rows(tenant, Document) == [] and rows(tenant, UploadChunk) == []
    [event] = events(tenant, "document.upload_refused")
    assert event.details == {"filename": "minutes.pdf", "reason": "type not allowed"}
    assert staff.post(f"{base}{upload_id}/complete/", **JSON).status_code == 404


def test_a_storage_outage_on_a_chunk_answers_503_and_the_same_chunk_succeeds_on_retry(
    tenant, records_request, staff, monkeypatch
):
    base = staff_url("upload_start", records_request.number)
    data = pdf(2 * CHUNK + 100)
    upload_id = start(staff, base, "a.pdf", len(data)).json()["id"]
    real_put_part = storage.LocalBlobStore.put_part
    failures = []

    def flaky(self, name, upload, number, part):
        if not failures:
            failures.append(number)
            raise storage.StorageError("simulated outage")
        return real_put_part(self, name, upload, number, part)

    monkeypatch.setattr(storage.LocalBlobStore, "put_part", flaky)
    first = parts(data)[0]

    down = put(staff, base, upload_id, 0, first)
    assert down.status_code == 503
    assert down.json() == {"error": "The file store is unavailable, your upload will resume."}
    assert rows(tenant, UploadChunk) == []
    assert staff.get(f"{base}{upload_id}/", **JSON).json()["received"] == 0

    assert put(staff, base, upload_id, 0, first).json()["received"] == CHUNK
    for index, part in enumerate(parts(data)[1:], start=1):
        assert put(staff, base, upload_id, index, part).status_code == 200
    result = staff.post(f"{base}{upload_id}/complete/", **JSON).json()
    [document] = rows(tenant, Document, public_id=result["document"])
    assert plaintext_of(tenant, document) == data


def test_a_20_mb_upload_in_real_8_mib_chunks_is_read_past_the_request_body_limit(
    tenant, records_request, staff, settings
):
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) guards request.body; the chunk view reads the
    # stream itself, bounded by the upload's chunk size, so no global setting is raised.
    settings.DOCUMENT_CHUNK_SIZE = 8 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < settings.DOCUMENT_CHUNK_SIZE
    base = staff_url("upload_start", records_request.number)
    data = pdf(20 * 1000 * 1000)
    response = start(staff, base, "big.pdf", len(data))
    upload_id = response.json()["id"]
    assert response.json()["chunk_size"] == 8 * 1024 * 1024
    for index, part in enumerate(parts(data, 8 * 1024 * 1024)):
        assert put(staff, base, upload_id, index, part).status_code == 200
    result = staff.post(f"{base}{upload_id}/complete/", **JSON).json()
    [document] = rows(tenant, Document, public_id=result["document"])
    assert plaintext_of(tenant, document) == data


# --- Whose upload ------------------------------------------------------------------------------


def test_only_the_uploader_can_touch_an_upload(
    tenant, other_tenant, records_request, staff, client_for
):
    base = staff_url("upload_start", records_request.number)
    upload_id = start(staff, base, "a.pdf", 2 * CHUNK).json()["id"]
    colleague = client_for(tenant.admin, tenant.host)  # sees the request, not the upload
    outsider = client_for(other_tenant.admin, tenant.host)
    own_host = client_for(other_tenant.admin, other_tenant.host)
    own_request = file_request(other_tenant)
    own_base = staff_url("upload_start", own_request.number)
    chunk = pdf(CHUNK)

    for client, url in ((colleague, base), (outsider, base), (own_host, own_base)):
        assert client.get(f"{url}{upload_id}/", **JSON).status_code == 404
        assert put(client, url, upload_id, 0, chunk).status_code == 404
        assert client.post(f"{url}{upload_id}/complete/", **JSON).status_code == 404
        assert client.post(f"{url}{upload_id}/cancel/", **JSON).status_code == 404
    # Another request of the same agency does not reach it either.
    second = file_request(tenant)
    second_base = staff_url("upload_start", second.number)
    assert staff.get(f"{second_base}{upload_id}/", **JSON).status_code == 404

    assert rows(tenant, UploadChunk) == []
    [upload] = rows(tenant, Upload)
    assert upload.status == UploadStatus.RECEIVING


def test_the_staff_upload_urls_answer_every_persona_as_the_permission_matrix_expects(
    tenant, other_tenant, records_request, client_for
):
    """What tests/accounts/test_views_permissions.py will check once the URLs are mounted:
    anonymous to sign-in, requesters and outsiders 404, staff roles a page (200, HTML) for GET
    and, for an empty POST to an action, a redirect to the request or the page with the
    error (400, HTML); POST-only actions answer GET with 405."""
    number = records_request.number
    title = records_request.title
    people = [tenant.admin, tenant.department_admin, tenant.publisher, tenant.staff]
    for user in people:
        client = client_for(user, tenant.host)
        base = staff_url("upload_start", number)
        upload_id = start(client, base, "matrix.pdf", 10).json()["id"]
        pages = [
            staff_url("upload", number),
            staff_url("upload_status", number, upload_id),
            staff_url("upload_chunk", number, upload_id, 0),
        ]
        # An empty start is refused (no file named), and so is completing an upload none of
        # whose bytes arrived: the page with the error. Cancelling needs nothing: back to
        # the request.
        actions = [
            (staff_url("upload_start", number), 400),
            (staff_url("upload_complete", number, upload_id), 400),
            (staff_url("upload_cancel", number, upload_id), 302),
        ]
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response["Content-Type"].startswith("text/html")
        for url, expected in actions:
            response = client.post(url, {})
            assert response.status_code == expected, (url, response.status_code)
            if response.status_code == 302:
                assert response["Location"] == reverse("staff:request_detail", args=[number])
            else:
                assert response["Content-Type"].startswith("text/html")
                assert title in response.content.decode()
            assert client.get(url).status_code == 405
            assert client.get(url)["Allow"] == "POST"

    url = staff_url("upload", number)
    anonymous = client_for(None, tenant.host).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(tenant.requester, tenant.host).get(url).status_code == 404
    assert client_for(other_tenant.admin, tenant.host).get(url).status_code == 404
    for view in (
        "staff_upload",
        "staff_upload_start",
        "staff_upload_status",
        "staff_upload_chunk",
        "staff_upload_complete",
        "staff_upload_cancel",
    ):
        assert getattr(upload_views, view).required_permission.code == "document.upload"


# --- The form without JavaScript ---------------------------------------------------------------


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def results_of(response) -> list[str]:
    text = re.sub(r"\s+", " ", response.content.decode())
    return re.findall(r'<li class="upload-item[^"]*">(.*?)</li>', text)


def test_the_upload_page_explains_the_rules_and_offers_the_resumable_protocol(
    tenant, records_request, staff
):
    document_settings(tenant, max_upload_mb=300)
    response = staff.get(staff_url("upload", records_request.number))
    body = response.content.decode()
    assert f"Add files to request {records_request.number}" in body
    assert "300 MB" in body
    assert "checked for viruses and personal data" in body
    assert all(label in body for label in types.allowed_labels())
    assert 'enctype="multipart/form-data"' in body and "multiple" in body
    assert f'data-upload-api="{staff_url("upload_start", records_request.number)}"' in body
    assert 'data-csrf="' in body
    assert 'aria-live="polite"' in body
    assert reverse("staff:request_detail", args=[records_request.number]) in body
    assert "<script>" not in body and "style=" not in body


def test_the_form_stores_several_files_at_once_and_reports_a_refused_one(
    tenant, records_request, staff, django_capture_on_commit_callbacks
):
    url = staff_url("upload", records_request.number)
    report = pdf(3 * CHUNK + 7)
    table = b"name,amount\nalice,10\nbob,20\n"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff.post(
            url,
            {
                "files": [
                    named("report.pdf", report),
                    named("setup.pdf", EXECUTABLE),
                    named("amounts.csv", table),
                ]
            },
        )
    assert response.status_code == 302 and response["Location"] == url

    documents = {d.filename: d for d in rows(tenant, Document)}
    assert set(documents) == {"report.pdf", "amounts.csv"}
    assert plaintext_of(tenant, documents["report.pdf"]) == report
    assert plaintext_of(tenant, documents["amounts.csv"]) == table
    assert len(scan_calls(callbacks)) == 2
    assert len(events(tenant, "document.uploaded")) == 2
    [refused] = events(tenant, "document.upload_refused")
    assert refused.details == {"filename": "setup.pdf", "reason": "type not allowed"}

    shown = results_of(staff.get(url))
    assert len(shown) == 3
    assert "report.pdf" in shown[0] and "Stored." in shown[0]
    assert "setup.pdf" in shown[1] and "not stored" in shown[1]
    assert "can&#x27;t be uploaded" in shown[1]
    assert "amounts.csv" in shown[2] and "Stored." in shown[2]
    assert results_of(staff.get(url)) == []  # shown once


def test_the_form_drops_an_oversize_file_while_reading_it_and_keeps_the_others(
    tenant, records_request, staff, settings
):
    document_settings(tenant, max_upload_mb=1)
    url = staff_url("upload", records_request.number)
    small = pdf(200 * KIB)
    response = staff.post(
        url, {"files": [named("huge.pdf", pdf(1024 * 1024 + 1)), named("small.pdf", small)]}
    )
    assert response.status_code == 302

    [document] = rows(tenant, Document)
    assert document.filename == "small.pdf"
    assert plaintext_of(tenant, document) == small
    # Nothing of the large file was stored or even started.
    assert len(stored_blobs(settings)) == 1 and open_parts(settings) == []
    assert [u.filename for u in rows(tenant, Upload)] == ["small.pdf"]
    [refused] = events(tenant, "document.upload_refused")
    # upload_services.upload_start records the cleaned stem of the name (clean_filename).
    assert refused.details == {"filename": "huge", "reason": "too large"}
    shown = results_of(staff.get(url))
    assert "huge.pdf" in shown[0]
    assert "larger than the 1 MB this agency accepts" in shown[0]


def test_the_form_without_files_says_so(tenant, records_request, staff):
    response = staff.post(staff_url("upload", records_request.number), {})
    assert response.status_code == 400
    assert "Choose one or more files to upload." in response.content.decode()


class RecordingSpool(tempfile.SpooledTemporaryFile):
    """Remembers every byte written to its file on disk (after it rolled over)."""

    on_disk: list[bytes] = []
    rolled: list[bool] = []

    def rollover(self):
        if not self._rolled:
            RecordingSpool.on_disk.append(self._file.getvalue())
            RecordingSpool.rolled.append(True)
        super().rollover()

    def write(self, data):
        if self._rolled:
            RecordingSpool.on_disk.append(bytes(data))
        return super().write(data)


def test_the_form_never_writes_plaintext_to_a_temporary_file(
    tenant, records_request, staff, monkeypatch, settings, tmp_path
):
    RecordingSpool.on_disk, RecordingSpool.rolled = [], []
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    monkeypatch.setattr(upload_handlers, "spool_memory", lambda: 4 * KIB)
    monkeypatch.setattr(
        upload_handlers,
        "new_spool",
        lambda max_size: RecordingSpool(max_size=max_size, dir=settings.FILE_UPLOAD_TEMP_DIR),
    )
    data = pdf(300 * KIB)

    response = staff.post(
        staff_url("upload", records_request.number), {"files": named("a.pdf", data)}
    )
    assert response.status_code == 302

    assert RecordingSpool.rolled == [True]
    disk = b"".join(RecordingSpool.on_disk)
    assert len(disk) > len(data)  # all of it went to disk, as ciphertext
    assert MARKER not in disk and b"%PDF" not in disk
    [document] = rows(tenant, Document)
    assert plaintext_of(tenant, document) == data
    assert [p for p in Path(tmp_path).iterdir() if p.is_file()] == []


def test_an_encrypted_upload_refuses_to_be_read_raw():
    handler = upload_handlers.EncryptingUploadHandler(limit=10**6)
    handler.new_file("files", "a.txt", "text/plain", None)
    handler.receive_data_chunk(b"hello world", 0)
    uploaded = handler.file_complete(11)
    assert b"".join(uploaded.chunks()) == b"hello world"
    with pytest.raises(io.UnsupportedOperation):
        uploaded.read()
    uploaded.file.seek(0)
    assert b"hello" not in uploaded.file.read()


def test_the_handler_reads_only_the_form_file_field():
    handler = upload_handlers.EncryptingUploadHandler(limit=10**6)
    with pytest.raises(SkipFile):
        handler.new_file("avatar", "a.txt", "text/plain", None)
    assert handler.outcomes == []


def test_a_form_upload_that_fails_while_reading_leaves_no_open_upload_behind(
    tenant, records_request, settings
):
    data = pdf(3 * CHUNK)

    def broken():
        yield data[:CHUNK]
        raise OSError("the temporary file went away")

    with agency_context(tenant.agency), pytest.raises(OSError):
        upload_services.upload_whole(
            records_request=records_request,
            filename="a.pdf",
            size=len(data),
            chunks=broken(),
            actor=tenant.staff,
        )
    [upload] = rows(tenant, Upload)
    assert upload.status == UploadStatus.ABANDONED
    assert open_parts(settings) == [] and rows(tenant, UploadChunk) == []


def test_the_form_and_the_protocol_check_the_csrf_token(
    tenant, records_request, client_for, settings
):
    client = client_for(tenant.staff, tenant.host)
    client.handler.enforce_csrf_checks = True
    number = records_request.number
    page = client.get(staff_url("upload", number)).content.decode()
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    base = staff_url("upload_start", number)

    assert client.post(base, {"filename": "a.pdf", "size": 10}, **JSON).status_code == 403
    started = client.post(base, {"filename": "a.pdf", "size": 10}, HTTP_X_CSRFTOKEN=token, **JSON)
    assert started.status_code == 201
    upload_id = started.json()["id"]
    chunk_url = f"{base}{upload_id}/chunks/0"
    data = pdf(10)
    assert client.put(chunk_url, data, content_type="application/octet-stream").status_code == 403
    accepted = client.put(
        chunk_url, data, content_type="application/octet-stream", HTTP_X_CSRFTOKEN=token, **JSON
    )
    assert accepted.status_code == 200

    form_url = staff_url("upload", number)
    blobs_before = stored_blobs(settings)
    assert client.post(form_url, {"files": named("b.pdf", pdf(100))}).status_code == 403
    assert rows(tenant, Document) == [] and stored_blobs(settings) == blobs_before
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    posted = client.post(
        form_url,
        {"files": named("b.pdf", pdf(100)), "csrfmiddlewaretoken": token, "form_token": form_token},
    )
    assert posted.status_code == 302
    assert [d.filename for d in rows(tenant, Document)] == ["b.pdf"]


# --- Requesters ----------------------------------------------------------------------------------


@pytest.fixture
def own_request(tenant) -> RecordsRequest:
    return file_request(tenant, requester=tenant.requester)


def test_requesters_upload_to_their_own_request_when_the_agency_allows_it(
    tenant, own_request, client_for
):
    document_settings(tenant, requester_uploads=True, requester_max_upload_mb=1)
    requester = client_for(tenant.requester, tenant.host)
    number = own_request.number
    page = requester.get(resident_url("upload", number))
    assert page.status_code == 200
    assert f'data-upload-api="{resident_url("upload_start", number)}"' in page.content.decode()
    assert "Each file can be up to <strong>1 MB</strong>" in page.content.decode()

    base = resident_url("upload_start", number)
    too_large = start(requester, base, "big.pdf", 1024 * 1024 + 1)
    assert too_large.json() == {"error": "This file is larger than the 1 MB this agency accepts."}
    data = pdf(CHUNK + 5)
    _, result = upload_all(requester, base, "Receipt.pdf", data)
    assert result["redirect"] == reverse("request_detail", args=[number])

    form = requester.post(resident_url("upload", number), {"files": named("Letter.pdf", pdf(99))})
    assert form.status_code == 302

    documents = {d.filename: d for d in rows(tenant, Document)}
    assert set(documents) == {"Receipt.pdf", "Letter.pdf"}
    assert all(d.uploaded_by_requester for d in documents.values())
    assert all(d.uploaded_by_id == tenant.requester.pk for d in documents.values())
    assert plaintext_of(tenant, documents["Receipt.pdf"]) == data


def test_the_requesters_form_checks_the_csrf_token_before_storing_anything(
    tenant, own_request, client_for, settings
):
    document_settings(tenant, requester_uploads=True)
    requester = client_for(tenant.requester, tenant.host)
    requester.handler.enforce_csrf_checks = True
    form_url = resident_url("upload", own_request.number)
    page = requester.get(form_url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    forged = requester.post(form_url, {"files": named("Letter.pdf", pdf(99))})
    assert forged.status_code == 403
    assert rows(tenant, Document) == [] and rows(tenant, Upload) == []
    assert stored_blobs(settings) == [] and open_parts(settings) == []

    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    posted = requester.post(
        form_url,
        {
            "files": named("Letter.pdf", pdf(99)),
            "csrfmiddlewaretoken": token,
            "form_token": form_token,
        },
    )
    assert posted.status_code == 302
    assert [d.filename for d in rows(tenant, Document)] == ["Letter.pdf"]


def test_a_requester_with_the_tracking_link_uploads_with_the_form(tenant, client_for):
    document_settings(tenant, requester_uploads=True)
    guest_request = file_request(tenant)
    token = tracking_token(guest_request)
    guest = client_for(None, tenant.host)
    url = resident_url("upload", guest_request.number) + f"?t={token}"

    page = guest.get(url)
    assert page.status_code == 200
    assert "data-upload-api" not in page.content.decode()  # the form posts the files
    response = guest.post(url, {"files": named("scan.pdf", pdf(1000))})
    assert response.status_code == 302 and response["Location"] == url
    [document] = rows(tenant, Document)
    assert document.uploaded_by_requester and document.uploaded_by_id is None
    assert "scan.pdf" in results_of(guest.get(url))[0]
    # The resumable protocol needs an account to bind the upload to.
    base = resident_url("upload_start", guest_request.number)
    assert start(guest, base + f"?t={token}", "a.pdf", 10).status_code == 404


def test_the_tracking_link_is_not_kept_with_the_forms_claim(tenant, client_for):
    # The claim of a sent form (accounts.once) keeps where its result is; a guest's page
    # address carries the tracking link, a secret that opens the request: never stored.
    document_settings(tenant, requester_uploads=True)
    guest_request = file_request(tenant)
    token = tracking_token(guest_request)
    guest = client_for(None, tenant.host)
    url = resident_url("upload", guest_request.number) + f"?t={token}"
    page = guest.get(url).content.decode()
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    sent = {"form_token": form_token}

    first = guest.post(url, {**sent, "files": named("scan.pdf", pdf(1000))})
    again = guest.post(url, {**sent, "files": named("scan.pdf", pdf(1000))})

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == url  # sent twice: the same page
    assert len(rows(tenant, Document)) == 1
    with agency_context(tenant.agency):
        claims = list(FormSubmission.objects.filter(agency=tenant.agency))
    assert claims and all(token not in claim.result_url for claim in claims)


def test_upload_starts_are_rate_limited_per_person_on_the_protocol_and_the_form(
    tenant, records_request, staff, client_for, settings
):
    # A day: no window edge falls inside the test.
    settings.RATE_LIMIT_UPLOAD_PER_USER = "3/d"
    base = staff_url("upload_start", records_request.number)
    form_url = staff_url("upload", records_request.number)

    answers = [start(staff, base, f"{n}.pdf", 1000).status_code for n in range(2)]
    answers.append(staff.post(form_url, {"files": named("third.pdf", pdf(1000))}).status_code)
    refused_start = start(staff, base, "fourth.pdf", 1000)
    refused_form = staff.post(form_url, {"files": named("fifth.pdf", pdf(1000))})

    assert answers == [201, 201, 302]
    assert refused_start.status_code == 429
    assert refused_start.json() == {
        "error": "Too many uploads started: wait a while and try again."
    }
    assert refused_form.status_code == 429
    assert "Too many uploads started" in refused_form.content.decode()
    # The refused form stored nothing: only the third file became a document.
    assert [d.filename for d in rows(tenant, Document)] == ["third.pdf"]
    assert sorted(u.filename for u in rows(tenant, Upload)) == ["0.pdf", "1.pdf", "third.pdf"]
    # Someone else in the agency is not held back by this person's uploads.
    colleague = client_for(tenant.admin, tenant.host)
    assert start(colleague, base, "theirs.pdf", 1000).status_code == 201


def test_the_tracking_link_form_is_rate_limited_per_address(tenant, client_for, settings):
    settings.RATE_LIMIT_UPLOAD_PER_IP = "2/d"
    document_settings(tenant, requester_uploads=True)
    guest_request = file_request(tenant)
    url = resident_url("upload", guest_request.number) + f"?t={tracking_token(guest_request)}"
    guest = client_for(None, tenant.host)

    answers = [
        guest.post(url, {"files": named(f"{n}.pdf", pdf(1000))}).status_code for n in range(3)
    ]

    assert answers == [302, 302, 429]
    assert sorted(d.filename for d in rows(tenant, Document)) == ["0.pdf", "1.pdf"]


def test_each_file_of_a_form_counts_against_the_upload_limit(tenant, client_for, settings):
    settings.RATE_LIMIT_UPLOAD_PER_IP = "3/d"
    document_settings(tenant, requester_uploads=True)
    guest_request = file_request(tenant)
    url = resident_url("upload", guest_request.number) + f"?t={tracking_token(guest_request)}"
    guest = client_for(None, tenant.host)

    response = guest.post(url, {"files": [named(f"{n}.pdf", pdf(1000)) for n in range(5)]})

    assert response.status_code == 302
    assert sorted(d.filename for d in rows(tenant, Document)) == ["0.pdf", "1.pdf", "2.pdf"]
    shown = results_of(guest.get(url))
    assert all("Too many uploads started" in line for line in shown[3:]) and len(shown) == 5


def test_a_form_stores_at_most_twenty_files_and_says_so_for_the_rest(
    tenant, records_request, staff
):
    url = staff_url("upload", records_request.number)

    response = staff.post(url, {"files": [named(f"{n:02}.csv", b"a,b\n1,2\n") for n in range(22)]})

    assert response.status_code == 302
    assert len(rows(tenant, Document)) == upload_handlers.MAX_FILES == 20
    shown = results_of(staff.get(url))
    assert len(shown) == 22
    assert all("at most 20 files at a time" in line for line in shown[20:])


def test_a_form_over_the_limit_is_refused_before_its_body_is_read(
    tenant, records_request, staff, settings, monkeypatch
):
    settings.RATE_LIMIT_UPLOAD_PER_USER = "1/d"
    url = staff_url("upload", records_request.number)
    assert staff.post(url, {"files": named("first.pdf", pdf(1000))}).status_code == 302
    handlers = []
    real_init = upload_handlers.EncryptingUploadHandler.__init__

    def watched_init(self, *args, **kwargs):
        handlers.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(upload_handlers.EncryptingUploadHandler, "__init__", watched_init)

    refused = staff.post(url, {"files": named("second.pdf", pdf(1000))})

    assert refused.status_code == 429
    assert handlers == []  # no handler installed: the body was never parsed or spooled
    assert [d.filename for d in rows(tenant, Document)] == ["first.pdf"]


def test_requester_uploads_are_404_unless_allowed_and_only_for_the_requester(
    tenant, other_tenant, own_request, records_request, client_for
):
    number = own_request.number
    url = resident_url("upload", number)
    requester = client_for(tenant.requester, tenant.host)
    assert requester.get(url).status_code == 404  # the agency does not allow it
    assert start(requester, resident_url("upload_start", number), "a.pdf", 10).status_code == 404

    document_settings(tenant, requester_uploads=True)
    assert requester.get(url).status_code == 200
    # Someone else's request (a published one, which the requester can read), staff,
    # another agency, a visitor without the tracking link: no page.
    assert requester.get(resident_url("upload", records_request.number)).status_code == 404
    assert client_for(tenant.staff, tenant.host).get(url).status_code == 404
    assert client_for(other_tenant.requester, tenant.host).get(url).status_code == 404
    assert client_for(None, tenant.host).get(url).status_code == 404
    refused = client_for(tenant.staff, tenant.host).post(url, {"files": named("x.pdf", pdf(50))})
    assert refused.status_code == 404
    assert rows(tenant, Document) == [] and rows(tenant, Upload) == []


def test_a_requester_cannot_use_a_staff_upload_on_the_resident_urls(
    tenant, own_request, client_for
):
    document_settings(tenant, requester_uploads=True)
    # An upload of the same person that is not a requester upload (made as staff) is not
    # reachable through the requester's URLs.
    requester = client_for(tenant.requester, tenant.host)
    base = resident_url("upload_start", own_request.number)
    upload_id = start(requester, base, "a.pdf", 10).json()["id"]
    assert requester.get(f"{base}{upload_id}/", **JSON).status_code == 200
    with agency_context(tenant.agency):
        Upload.objects.filter(agency=tenant.agency, public_id=upload_id).update(by_requester=False)
    assert requester.get(f"{base}{upload_id}/", **JSON).status_code == 404
