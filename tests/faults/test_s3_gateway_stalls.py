"""Fault run: the S3 gateway stops answering in the middle of a staff upload (issue 16).

The real gateway (Ceph's radosgw, scripts/s3-test-server) is frozen with SIGSTOP while a
chunk and then the completion are sent through the resumable protocol, and thawed after.
Each step answers 503 with the uploader's "will resume" message within the bounded S3 waits
(config/storage_settings.py; botocore's defaults held a request for minutes), leaves no
chunk row, document or version behind, and succeeds when sent again once the gateway is
back. At the end the bucket holds the one document object and no open multipart upload.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from documents import versions
from documents.models import Document, DocumentVersion, Upload, UploadChunk, UploadStatus
from tests.faults.process_pause import paused, processes_named
from vault import locations, storage

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
CHUNK = 5 * MiB  # the gateway refuses smaller parts, except the last
JSON = {"HTTP_ACCEPT": "application/json"}
STALL_READ_TIMEOUT = 2  # seconds per attempt in this test; production waits 10
STALL_ATTEMPTS = 2
# What one stalled S3 call may cost a request here (the timeouts above, plus slack for a
# loaded CI machine): a request that waited for botocore's defaults would take minutes.
BOUND = STALL_READ_TIMEOUT * STALL_ATTEMPTS + 8
# After an outage, long enough for the woken gateway to carry out what it held (a second).


@pytest.fixture
def stalling_gateway(s3_bucket, settings):
    """The portal on the gateway's buckets, with the test's short S3 timeouts; the radosgw
    process to freeze."""
    settings.DOCUMENT_CHUNK_SIZE = CHUNK
    settings.DOCUMENTS_S3_READ_TIMEOUT = STALL_READ_TIMEOUT
    settings.DOCUMENTS_S3_CONNECT_TIMEOUT = 2
    settings.DOCUMENTS_S3_MAX_ATTEMPTS = STALL_ATTEMPTS
    storage.reset_cache()
    (rgw,) = processes_named(s3_bucket.gateway.process.pid, "radosgw")
    return rgw


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def rows(tenant, model) -> list:
    with agency_context(tenant.agency):
        return list(model.objects.filter(agency=tenant.agency))


def test_an_upload_outlives_a_gateway_that_stops_answering(
    tenant, client_for, records_request, s3_bucket, stalling_gateway
):
    staff = client_for(tenant.staff, tenant.host)
    base = reverse("staff:document_upload_start", args=[records_request.number])
    content = b"Council minutes, line after line.\n" * (CHUNK // 34 + 40)
    first, last = content[:CHUNK], content[CHUNK:]

    def put(index: int, data: bytes):
        return staff.put(
            f"{base}{upload_id}/chunks/{index}",
            data,
            content_type="application/octet-stream",
            **JSON,
        )

    def complete():
        return staff.post(f"{base}{upload_id}/complete/", **JSON)

    # Starting while the gateway hangs: a plain 503, and no upload row is left open.
    with paused(stalling_gateway):
        refused, took = timed(
            lambda: staff.post(base, {"filename": "minutes.txt", "size": len(content)}, **JSON)
        )
    assert refused.status_code == 503, refused.content
    assert "unavailable" in refused.json()["error"]
    assert took < BOUND, f"starting against a hung gateway took {took:.1f} s"
    assert rows(tenant, Upload) == []

    # The outage ends and the start is retried at once. The requests the frozen gateway
    # still held (the refused start's escrow key) are carried out when it wakes, possibly
    # after the retry's: each attempt writes its escrow under a name of its own, so the late
    # write cannot land over the retry's (it once did: docs/operations.md "Faults").
    started = staff.post(base, {"filename": "minutes.txt", "size": len(content)}, **JSON)
    assert started.status_code == 201, started.content
    upload_id = started.json()["id"]
    assert put(0, first).status_code == 200

    # The last chunk while the gateway hangs.
    with paused(stalling_gateway):
        down, took = timed(lambda: put(1, last))
    assert down.status_code == 503
    assert down.json() == {"error": "The file store is unavailable, your upload will resume."}
    assert took < BOUND, f"a chunk against a hung gateway took {took:.1f} s"
    assert [chunk.index for chunk in rows(tenant, UploadChunk)] == [0]
    assert staff.get(f"{base}{upload_id}/", **JSON).json()["received"] == CHUNK

    # Back: the same chunk goes through (the part the gateway may have stored late, when it
    # woke, is recognised as the same ciphertext and kept).
    assert put(1, last).status_code == 200

    # Completing while the gateway hangs: a 503 and no document.
    with paused(stalling_gateway):
        down, took = timed(complete)
    assert down.status_code == 503
    assert "unavailable" in down.json()["error"]
    assert took < BOUND, f"completing against a hung gateway took {took:.1f} s"
    assert rows(tenant, Document) == [] and rows(tenant, DocumentVersion) == []

    # Back: completing again makes the document, whole.
    finished = complete()
    assert finished.status_code == 200, finished.content
    [document] = rows(tenant, Document)
    assert str(document.public_id) == finished.json()["document"]
    [upload] = rows(tenant, Upload)
    assert upload.status == UploadStatus.COMPLETE
    assert rows(tenant, UploadChunk) == []
    with agency_context(tenant.agency):
        version = DocumentVersion.objects.get(document=document, number=1)
        assert b"".join(versions.version_read(version)) == content

    # No orphan: one object, the document's; no multipart upload left open.
    client = s3_bucket.client()
    listed = client.list_objects_v2(Bucket=s3_bucket.documents).get("Contents", [])
    assert [item["Key"] for item in listed] == [s3_bucket.document_key(version.storage_name)]
    assert client.list_multipart_uploads(Bucket=s3_bucket.documents).get("Uploads", []) == []


def test_production_s3_waits_end_before_the_routers_30_seconds(settings, s3_bucket):
    """Each S3 call of a request: at most two attempts, each 5 s to connect and 10 s per
    answer; the stalled-gateway run above uses the same settings, shortened."""
    config = locations.documents_store("default").client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (5, 10)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.s3 == {"addressing_style": "path"} and config.signature_version == "s3v4"
    worst = config.retries["total_max_attempts"] * max(config.connect_timeout, config.read_timeout)
    assert worst < 30
