"""Hourly upkeep: unfinished uploads are abandoned with their stored parts; documents stuck
in quarantine are scanned again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import agency_context
from documents import tasks
from documents.models import Document, DocumentStatus, Upload, UploadStatus
from documents.upload import services as upload_services
from requests_portal.services import submission as request_submission
from tests.documents.helpers import pdf_with_text, stored_document
from vault.locations import documents_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def records_request(tenant):
    with agency_context(tenant.agency):
        return request_submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Upkeep",
            description="Upkeep test.",
            contact=request_submission.Contact(name="Pat"),
            channel="web",
        )


def test_an_expired_upload_is_abandoned_and_its_parts_deleted(tenant, records_request, settings):
    settings.DOCUMENT_CHUNK_SIZE = 128 * 1024
    data = pdf_with_text("x") + b"%" * (200 * 1024)
    with agency_context(tenant.agency):
        upload = upload_services.upload_start(
            records_request=records_request, filename="a.pdf", size=len(data), actor=tenant.staff
        )
        upload_services.upload_chunk(upload=upload, index=0, data=data[: 128 * 1024])
        parts = documents_store("default")._parts(upload.storage_upload_id)
        assert any(parts.iterdir())
        Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(1))
        outcome = tasks.agency_upkeep(agency_id=tenant.agency.pk)
        upload.refresh_from_db()
    assert outcome["uploads_abandoned"] == 1
    assert upload.status == UploadStatus.ABANDONED
    assert not parts.exists()


def test_a_document_stuck_in_quarantine_is_scanned_again(
    tenant, records_request, django_capture_on_commit_callbacks
):
    document = stored_document(
        records_request, pdf_with_text("Minutes"), status=DocumentStatus.QUARANTINED
    )
    with agency_context(tenant.agency):
        Document.objects.filter(pk=document.pk).update(
            created_at=timezone.now() - timedelta(hours=3)
        )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = tasks.agency_upkeep(agency_id=tenant.agency.pk)
    assert outcome["rescans"] == 1
    with agency_context(tenant.agency):
        document.refresh_from_db()
    assert document.status == DocumentStatus.CLEAN
