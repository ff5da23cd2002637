"""The documents resource: uploads through the web's encrypted, scanned pipeline (refused
above the agency's limit before storage), downloads through the web's expiring links bound
to the caller, and another agency's or another person's documents a 404."""

from __future__ import annotations

import io

import pytest

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents.models import Document, DocumentSettings, DocumentStatus, ReleaseLevel
from tests.api.helpers import api_client, file_as, make_token
from tests.documents.helpers import pdf_with_text, stored_document

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agencies")]


def _client(tenant, user, agency=None):
    _token, text = make_token(user, agency or tenant.agency)
    return api_client(text, tenant.host)


def test_staff_upload_is_quarantined_and_listed(tenant):
    records_request = file_as(tenant, tenant.requester)
    client = _client(tenant, tenant.staff)
    base = f"/api/v1/requests/{records_request.number}/documents/"
    pdf = pdf_with_text("Council minutes")
    upload = io.BytesIO(pdf)
    upload.name = "minutes.pdf"
    response = client.post(base, {"files": upload})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filename"] == "minutes.pdf" and body["size"] == len(pdf)
    listed = client.get(base).json()
    assert [d["id"] for d in listed] == [body["id"]]
    with agency_context(tenant.agency):
        assert Document.objects.get(public_id=body["id"]).uploaded_by_id == tenant.staff.pk
        assert AuditEvent.objects.filter(action="document.uploaded").exists()
    # The requester sees none of it until it is released.
    assert _client(tenant, tenant.requester).get(base).json() == []


def test_an_oversized_upload_is_refused_before_storage(tenant):
    records_request = file_as(tenant, tenant.requester)
    with agency_context(tenant.agency):
        DocumentSettings.objects.update_or_create(
            agency=tenant.agency, defaults={"max_upload_mb": 1}
        )
    client = _client(tenant, tenant.staff)
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
    big.name = "big.pdf"
    response = client.post(f"/api/v1/requests/{records_request.number}/documents/", {"files": big})
    assert response.status_code == 413, response.content
    assert response.json()["error"]["status"] == 413
    with agency_context(tenant.agency):
        assert not Document.objects.filter(request=records_request).exists()


def test_download_through_a_link_bound_to_the_caller(tenant, other_tenant):
    records_request = file_as(tenant, tenant.requester)
    pdf = pdf_with_text("Released page")
    document = stored_document(records_request, pdf, status=DocumentStatus.CLEAN)
    with agency_context(tenant.agency):
        Document.objects.filter(pk=document.pk).update(release=ReleaseLevel.REQUESTER)
    requester = _client(tenant, tenant.requester)
    path = f"/api/v1/requests/{records_request.number}/documents/{document.public_id}/"
    assert requester.get(path).json()["filename"] == "minutes.pdf"
    link = requester.post(f"{path}link/")
    assert link.status_code == 201, link.content
    url = link.json()["url"]
    downloaded = requester.get(url)
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == pdf
    # The link is the caller's: another person's token, or none, is refused.
    assert _client(tenant, tenant.staff).get(url).status_code == 403
    assert api_client("", tenant.host).get(url).status_code in (401, 403)
    # Another agency's people get 404 on every document endpoint.
    outsider = _client(other_tenant, other_tenant.admin)
    assert outsider.get(path).status_code == 404
    assert outsider.post(f"{path}link/").status_code == 404
    assert outsider.get(path.rsplit("/", 2)[0] + "/").status_code == 404


def _take_requester_files(tenant, **extra):
    with agency_context(tenant.agency):
        DocumentSettings.objects.update_or_create(
            agency=tenant.agency, defaults={"requester_uploads": True, **extra}
        )


def _pdf_upload(name="letter.pdf", text="Supporting letter"):
    upload = io.BytesIO(pdf_with_text(text))
    upload.name = name
    return upload


def test_a_requester_uploads_to_their_own_request_where_the_agency_takes_files(tenant):
    records_request = file_as(tenant, tenant.requester)
    _take_requester_files(tenant)
    client = _client(tenant, tenant.requester)
    base = f"/api/v1/requests/{records_request.number}/documents/"
    response = client.post(base, {"files": _pdf_upload()})
    assert response.status_code == 201, response.content
    with agency_context(tenant.agency):
        stored = Document.objects.get(agency=tenant.agency, public_id=response.json()["id"])
        assert stored.uploaded_by_requester and stored.uploaded_by_id == tenant.requester.pk
        assert stored.status == DocumentStatus.QUARANTINED
        assert AuditEvent.objects.filter(
            action="document.uploaded", actor=tenant.requester
        ).exists()
    # As on the web, their own file is not released to them by uploading it; staff see it.
    assert client.get(base).json() == []
    staff_sees = _client(tenant, tenant.staff).get(base).json()
    assert [d["id"] for d in staff_sees] == [response.json()["id"]]


def test_a_requester_upload_is_refused_where_the_agency_takes_no_files(tenant):
    records_request = file_as(tenant, tenant.requester)
    client = _client(tenant, tenant.requester)
    response = client.post(
        f"/api/v1/requests/{records_request.number}/documents/", {"files": _pdf_upload()}
    )
    assert response.status_code == 404
    with agency_context(tenant.agency):
        assert not Document.objects.filter(request=records_request).exists()


def test_a_requester_upload_over_their_limit_is_refused_before_storage(tenant):
    records_request = file_as(tenant, tenant.requester)
    _take_requester_files(tenant, requester_max_upload_mb=1)
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
    big.name = "big.pdf"
    response = _client(tenant, tenant.requester).post(
        f"/api/v1/requests/{records_request.number}/documents/", {"files": big}
    )
    assert response.status_code == 413, response.content
    with agency_context(tenant.agency):
        assert not Document.objects.filter(request=records_request).exists()


def test_uploads_per_person_are_limited_as_on_the_web(tenant, settings):
    settings.RATE_LIMIT_UPLOAD_PER_USER = "1/h"
    records_request = file_as(tenant, tenant.requester)
    _take_requester_files(tenant)
    client = _client(tenant, tenant.requester)
    base = f"/api/v1/requests/{records_request.number}/documents/"
    assert client.post(base, {"files": _pdf_upload()}).status_code == 201
    second = client.post(base, {"files": _pdf_upload("second.pdf")})
    assert second.status_code == 429, second.content
    assert "Too many uploads" in second.json()["error"]["message"]
    with agency_context(tenant.agency):
        assert Document.objects.filter(request=records_request).count() == 1
