"""Hourly upkeep of documents, per agency: uploads nobody finished are abandoned (their
stored parts deleted, so nothing half-uploaded lingers in storage), and documents still in
quarantine long after upload are scanned again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from documents import jobs
from documents.models import Document, DocumentStatus, Upload, UploadStatus
from documents.upload import services as upload_services

RESCAN_AFTER = timedelta(hours=2)


def run(agency_id: int) -> dict:
    expired = 0
    for upload in Upload.objects.filter(
        agency=agency_id, status=UploadStatus.RECEIVING, expires_at__lte=timezone.now()
    ):
        upload_services.upload_abandon(upload=upload)
        expired += 1
    stale = list(
        Document.objects.filter(
            agency=agency_id,
            status=DocumentStatus.QUARANTINED,
            created_at__lte=timezone.now() - RESCAN_AFTER,
        ).values_list("pk", flat=True)
    )
    for document_id in stale:
        jobs.scan_document(agency_id=agency_id, document_id=document_id)
    return {"uploads_abandoned": expired, "rescans": len(stale)}
