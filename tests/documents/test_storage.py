"""Where ciphertext lives: the local folder and a real S3 server (Ceph's RADOS Gateway) answer
the same way, and the service layer only ever hands them ciphertext."""

from __future__ import annotations

import errno
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from accounts.models import Role
from accounts.tenancy import agency_context
from documents import keys, versions
from documents.errors import DocumentError
from documents.models import Document, DocumentVersion, Upload, UploadChunk, VersionKind
from documents.upload import services as upload_services
from requests_portal.services import submission as request_submission
from tests.db_helpers import race_behind_a_lock, run_in_committed_thread
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.idp._process import free_port
from vault import crypto, locations, storage
from vault.storage import BlobMissing, StorageError

MiB = 1024 * 1024
S3_MIN_PART = 5 * MiB  # the gateway refuses smaller parts (EntityTooSmall), except the last
LOCAL_PART = 64 * 1024
MARKER = b"SSN 123-45-6789"


@dataclass
class Backend:
    """One of the two stores, with ways around the portal to see what it holds."""

    kind: str
    part_size: int
    buckets: object = None

    @property
    def store(self):
        return locations.documents_store("default")

    def raw(self, name: str) -> bytes:
        if self.kind == "s3":
            return self.buckets.fetch(name)
        return (Path(django_settings.DOCUMENTS_LOCAL_ROOT) / name).read_bytes()

    def overwrite(self, name: str, data: bytes) -> None:
        if self.kind == "s3":
            self.buckets.client().put_object(
                Bucket=self.buckets.documents, Key=self.buckets.document_key(name), Body=data
            )
        else:
            (Path(django_settings.DOCUMENTS_LOCAL_ROOT) / name).write_bytes(data)


@pytest.fixture(params=["local", "s3"])
def backend(request, monkeypatch) -> Backend:
    """Parts as small as each store allows, so multipart paths run on small files."""
    if request.param == "s3":
        buckets = request.getfixturevalue("s3_bucket")
        monkeypatch.setattr(storage, "PART_SIZE", S3_MIN_PART)
        return Backend("s3", S3_MIN_PART, buckets)
    monkeypatch.setattr(storage, "PART_SIZE", LOCAL_PART)
    return Backend("local", LOCAL_PART)


def pieces(data: bytes, size: int = MiB // 3):
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


# --- The store interface ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["empty", "small", "three parts and a tail"])
def test_a_blob_reads_back_byte_for_byte(backend, shape):
    size = {"empty": 0, "small": 1000, "three parts and a tail": 3 * backend.part_size + 123}
    data = os.urandom(size[shape])
    name = f"agency-1/{shape.replace(' ', '-')}"

    assert backend.store.write(name, pieces(data)) == len(data)

    assert backend.store.exists(name)
    assert backend.store.size(name) == len(data)
    assert b"".join(backend.store.read(name)) == data
    if backend.kind == "s3":
        head = backend.buckets.client().head_object(
            Bucket=backend.buckets.documents, Key=backend.buckets.document_key(name)
        )
        # An S3 multipart object's ETag ends with its part count.
        multipart = shape == "three parts and a tail"
        assert head["ETag"].strip('"').endswith("-4") is multipart


def test_resumable_parts_join_in_part_order_and_a_resent_part_replaces_the_first(backend):
    name = "agency-1/resumable"
    first, tail = os.urandom(backend.part_size), os.urandom(777)
    upload_id = backend.store.start_parts(name)

    tail_etag = backend.store.put_part(name, upload_id, 2, tail)  # parts may come in any order
    backend.store.put_part(name, upload_id, 1, os.urandom(backend.part_size))
    first_etag = backend.store.put_part(name, upload_id, 1, first)  # sent again: this one wins
    assert not backend.store.exists(name)  # nothing to read before completion

    size = backend.store.complete_parts(name, upload_id, [(2, tail_etag), (1, first_etag)])

    assert size == len(first) + len(tail)
    assert b"".join(backend.store.read(name)) == first + tail


def test_an_aborted_upload_leaves_nothing_and_takes_no_more_parts(backend):
    name = "agency-1/aborted"
    upload_id = backend.store.start_parts(name)
    etag = backend.store.put_part(name, upload_id, 1, os.urandom(1000))

    backend.store.abort_parts(name, upload_id)
    backend.store.abort_parts(name, upload_id)  # twice is harmless

    assert not backend.store.exists(name)
    with pytest.raises(BlobMissing):
        backend.store.put_part(name, upload_id, 2, b"more")
    # AWS answers NoSuchUpload (BlobMissing); Ceph's gateway an InternalError (StorageError).
    with pytest.raises(StorageError):
        backend.store.complete_parts(name, upload_id, [(1, etag)])
    assert not backend.store.exists(name)


def test_a_deleted_blob_is_gone_and_deleting_it_again_is_harmless(backend):
    name = "agency-1/deleted"
    backend.store.write(name, [b"ciphertext"])

    backend.store.delete(name)
    backend.store.delete(name)

    assert not backend.store.exists(name)
    with pytest.raises(BlobMissing):
        b"".join(backend.store.read(name))


def test_an_unknown_name_is_blob_missing_for_every_read(backend):
    assert not backend.store.exists("agency-1/never-written")
    with pytest.raises(BlobMissing):
        b"".join(backend.store.read("agency-1/never-written"))
    with pytest.raises(BlobMissing):
        backend.store.size("agency-1/never-written")
    assert issubclass(BlobMissing, StorageError)  # callers that handle outages handle it too


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "agency-1/../../x", "Upper", ""])
def test_names_the_portal_does_not_make_are_refused_before_any_storage_call(backend, name):
    with pytest.raises(ValueError, match="not a storage name"):
        backend.store.write(name, [b"x"])


# --- Outages ---------------------------------------------------------------------------------


@pytest.fixture
def unreachable_s3(settings):
    """The S3 store pointed at a port nothing listens on."""
    settings.DOCUMENTS_S3_BUCKET = "documents-unreachable"
    settings.DOCUMENTS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.DOCUMENTS_S3_ADDRESSING_STYLE = "path"
    settings.DOCUMENTS_S3_REGION = "us-east-1"
    settings.DOCUMENTS_S3_ACCESS_KEY_ID = "unused"
    settings.DOCUMENTS_S3_SECRET_ACCESS_KEY = "unused"
    storage.reset_cache()
    return locations.documents_store("default")


@pytest.mark.parametrize(
    "operation",
    [
        lambda s: s.write("agency-1/x", [b"ciphertext"]),
        lambda s: b"".join(s.read("agency-1/x")),
        lambda s: s.size("agency-1/x"),
        lambda s: s.exists("agency-1/x"),
        lambda s: s.delete("agency-1/x"),
        lambda s: s.start_parts("agency-1/x"),
        lambda s: s.put_part("agency-1/x", "upload-id", 1, b"part"),
        lambda s: s.complete_parts("agency-1/x", "upload-id", [(1, "etag")]),
    ],
    ids=["write", "read", "size", "exists", "delete", "start", "part", "complete"],
)
def test_an_unreachable_gateway_is_a_storage_error_not_a_boto_exception(unreachable_s3, operation):
    with pytest.raises(StorageError) as raised:
        operation(unreachable_s3)
    assert type(raised.value) is StorageError  # an outage, not "missing"


def _truncating_server() -> tuple[int, threading.Thread]:
    """An HTTP server that promises 1 MiB and hangs up after 10 bytes, once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        connection, _ = listener.accept()
        with connection, listener:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n"
                b"Content-Type: application/octet-stream\r\n\r\n" + b"0123456789"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_a_connection_cut_in_the_middle_of_a_read_is_a_storage_error(settings):
    port, thread = _truncating_server()
    settings.DOCUMENTS_S3_BUCKET = "documents-cut"
    settings.DOCUMENTS_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.DOCUMENTS_S3_ADDRESSING_STYLE = "path"
    settings.DOCUMENTS_S3_REGION = "us-east-1"
    settings.DOCUMENTS_S3_ACCESS_KEY_ID = "unused"
    settings.DOCUMENTS_S3_SECRET_ACCESS_KEY = "unused"
    storage.reset_cache()

    with pytest.raises(StorageError) as raised:
        b"".join(locations.documents_store("default").read("agency-1/cut"))

    assert type(raised.value) is StorageError
    thread.join(timeout=10)


# --- The local store's writer thread ----------------------------------------------------------


def local_files(settings) -> list[Path]:
    root = Path(settings.DOCUMENTS_LOCAL_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "blob-writer"]


def test_the_local_store_writes_every_byte_when_the_disk_takes_a_few_at_a_time(
    settings, monkeypatch
):
    # A regular file may accept fewer bytes than asked; the writer must go on where it stopped.
    real_writev = os.writev
    calls = []

    def stingy_writev(fd, buffers):
        calls.append(1)
        first = bytes(buffers[0])
        return real_writev(fd, [first[: max(1, len(first) // 3)]])

    monkeypatch.setattr(storage.os, "writev", stingy_writev)
    data = os.urandom(3 * MiB + 12345)
    segments = [data[i : i + 65552] for i in range(0, len(data), 65552)]

    written = storage.LocalBlobStore(Path(settings.DOCUMENTS_LOCAL_ROOT)).write(
        "agency-1/stingy", segments
    )

    assert written == len(data)
    assert (Path(settings.DOCUMENTS_LOCAL_ROOT) / "agency-1/stingy").read_bytes() == data
    assert len(calls) > len(segments)  # it really was given partial writes
    assert writer_threads() == []


def test_a_full_disk_half_way_is_a_storage_error_and_leaves_no_file(settings, monkeypatch):
    real_writev = os.writev
    calls = []

    def filling_writev(fd, buffers):
        calls.append(1)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_writev(fd, buffers)

    monkeypatch.setattr(storage.os, "writev", filling_writev)
    produced = []

    def ciphertext():
        for _ in range(64):  # 64 MiB offered, far more than the queue holds
            produced.append(1)
            yield os.urandom(MiB)

    store = storage.LocalBlobStore(Path(settings.DOCUMENTS_LOCAL_ROOT))
    with pytest.raises(StorageError, match="No space left"):
        store.write("agency-1/full", ciphertext())

    assert local_files(settings) == []
    assert len(produced) < 64  # the producer was stopped, not run to the end
    assert writer_threads() == []


def test_a_producer_failing_half_way_leaves_no_file_and_no_thread(settings):
    def ciphertext():
        yield os.urandom(3 * MiB)
        raise crypto.DecryptionError("the source went bad")

    store = storage.LocalBlobStore(Path(settings.DOCUMENTS_LOCAL_ROOT))
    with pytest.raises(crypto.DecryptionError):
        store.write("agency-1/broken", ciphertext())

    assert local_files(settings) == []
    assert writer_threads() == []


def test_a_local_part_is_stored_whole_or_not_at_all(settings, monkeypatch):
    store = storage.LocalBlobStore(Path(settings.DOCUMENTS_LOCAL_ROOT))
    upload_id = store.start_parts("agency-1/parted")
    data = os.urandom(200_000)
    real_write_bytes = Path.write_bytes

    def disk_fills_half_way(self, content):
        real_write_bytes(self, content[: len(content) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as failing:
        failing.setattr(Path, "write_bytes", disk_fills_half_way)
        with pytest.raises(StorageError, match="No space left"):
            store.put_part("agency-1/parted", upload_id, 1, data)

    # Nothing half-written is left to be mistaken for other bytes: the retry goes through.
    assert store.stored_part("agency-1/parted", upload_id, 1) is None
    etag = store.put_part("agency-1/parted", upload_id, 1, data)
    assert store.stored_part("agency-1/parted", upload_id, 1) == etag
    store.complete_parts("agency-1/parted", upload_id, [(1, etag)])
    assert b"".join(store.read("agency-1/parted")) == data


# --- Through the service layer -----------------------------------------------------------------


def new_document(records_request, filename: str = "notes.txt") -> Document:
    return Document.objects.create(
        agency_id=records_request.agency_id,
        request=records_request,
        filename=filename,
        content_type="text/plain",
        size=0,
    )


def text_of(size: int) -> bytes:
    line = b"Payroll line: " + MARKER + b" paid in full.\n"
    return (line * (size // len(line) + 1))[:size]


def test_a_document_version_is_stored_only_as_ciphertext(backend, records_request, tenant):
    content = text_of(backend.part_size + 70_000)  # more than one part, many segments
    with agency_context(tenant.agency):
        document = new_document(records_request)
        version = versions.version_create(
            document=document, kind=VersionKind.ORIGINAL, chunks=pieces(content), actor=None
        )

        stored = backend.raw(version.storage_name)

        assert MARKER not in stored
        assert stored[:3] == b"RPD"  # the portal's stream header: the store got ciphertext
        assert len(stored) == version.stored_size == crypto.ciphertext_size(len(content))
        assert version.size == len(content)
        assert b"".join(versions.version_read(version)) == content


def test_a_changed_byte_in_the_stored_object_fails_decryption(backend, records_request, tenant):
    content = text_of(200_000)
    with agency_context(tenant.agency):
        version = versions.version_create(
            document=new_document(records_request),
            kind=VersionKind.ORIGINAL,
            chunks=[content],
            actor=None,
        )
        stored = bytearray(backend.raw(version.storage_name))
        stored[crypto.HEADER_SIZE + 100_000] ^= 0x01
        backend.overwrite(version.storage_name, bytes(stored))

        with pytest.raises(crypto.DecryptionError):
            b"".join(versions.version_read(version))


def test_a_storage_outage_during_a_chunk_leaves_no_chunk_row_and_the_upload_resumes(
    backend, records_request, tenant, settings, monkeypatch
):
    # A chunk is one part: as small as the store allows, a whole number of segments.
    settings.DOCUMENT_CHUNK_SIZE = max(backend.part_size, 2 * crypto.SEGMENT_SIZE)
    chunk = settings.DOCUMENT_CHUNK_SIZE
    content = text_of(chunk + 5000)
    store_class = type(backend.store)
    real_put_part = store_class.put_part
    failures = []

    def put_part_failing_once(self, *args, **kwargs):
        if not failures:
            failures.append(args)
            raise StorageError("gateway unavailable")
        return real_put_part(self, *args, **kwargs)

    monkeypatch.setattr(store_class, "put_part", put_part_failing_once)
    with agency_context(tenant.agency):
        upload = upload_services.upload_start(
            records_request=records_request,
            filename="payroll.txt",
            size=len(content),
            actor=tenant.staff,
        )

        with pytest.raises(StorageError):
            upload_services.upload_chunk(upload=upload, index=0, data=content[:chunk])

        assert not UploadChunk.objects.filter(upload=upload).exists()
        upload.refresh_from_db()
        assert upload.received == 0
        upload = upload_services.upload_chunk(upload=upload, index=0, data=content[:chunk])
        upload = upload_services.upload_chunk(upload=upload, index=1, data=content[chunk:])
        document = upload_services.upload_complete(upload=upload, actor=tenant.staff)

        version = DocumentVersion.objects.get(document=document, number=1)
        assert len(failures) == 1
        assert b"".join(versions.version_read(version)) == content
        assert MARKER not in backend.raw(version.storage_name)


class _RolledBack(Exception):
    pass


def test_a_part_left_by_a_rolled_back_chunk_is_kept_if_the_same_and_never_resealed_if_not(
    backend, records_request, tenant, settings
):
    # The request that stored part 1 rolled back after the write: storage has the part, the
    # database has no chunk row. Sealing other bytes there would reuse the part's nonces.
    settings.DOCUMENT_CHUNK_SIZE = max(backend.part_size, 2 * crypto.SEGMENT_SIZE)
    chunk = settings.DOCUMENT_CHUNK_SIZE
    content = text_of(chunk + 5000)
    with agency_context(tenant.agency):
        upload = upload_services.upload_start(
            records_request=records_request,
            filename="payroll.txt",
            size=len(content),
            actor=tenant.staff,
        )
        with pytest.raises(_RolledBack), transaction.atomic():
            upload_services.upload_chunk(upload=upload, index=0, data=content[:chunk])
            raise _RolledBack
        assert not UploadChunk.objects.filter(upload=upload).exists()
        store = locations.documents_store("default")
        left = store.stored_part(upload.storage_name, upload.storage_upload_id, 1)
        assert left is not None

        other = content[:100] + b"different bytes" + content[115:chunk]
        with pytest.raises(DocumentError, match="Start the upload again"):
            upload_services.upload_chunk(upload=upload, index=0, data=other)
        assert store.stored_part(upload.storage_name, upload.storage_upload_id, 1) == left
        assert not UploadChunk.objects.filter(upload=upload).exists()

        upload = upload_services.upload_chunk(upload=upload, index=0, data=content[:chunk])
        upload = upload_services.upload_chunk(upload=upload, index=1, data=content[chunk:])
        document = upload_services.upload_complete(upload=upload, actor=tenant.staff)
        version = DocumentVersion.objects.get(document=document, number=1)
        assert b"".join(versions.version_read(version)) == content


def test_sse_kms_adds_the_gateways_own_encryption_under_the_portals(
    s3_bucket, records_request, tenant, settings, monkeypatch
):
    monkeypatch.setattr(storage, "PART_SIZE", S3_MIN_PART)
    settings.DOCUMENTS_S3_SSE = "aws:kms"
    settings.DOCUMENTS_S3_KMS_KEY_ID = s3_bucket.gateway.kms_key_id
    settings.DOCUMENT_CHUNK_SIZE = S3_MIN_PART
    storage.reset_cache()
    small, large = text_of(3000), text_of(S3_MIN_PART + 1000)
    client = s3_bucket.client()
    with agency_context(tenant.agency):
        version = versions.version_create(  # one PUT
            document=new_document(records_request),
            kind=VersionKind.ORIGINAL,
            chunks=[small],
            actor=None,
        )
        uploaded = upload_services.upload_whole(  # a multipart upload
            records_request=records_request,
            filename="large.txt",
            size=len(large),
            chunks=pieces(large),
            actor=tenant.staff,
        )
        uploaded_version = DocumentVersion.objects.get(document=uploaded, number=1)

        for name in (version.storage_name, uploaded_version.storage_name):
            head = client.head_object(Bucket=s3_bucket.documents, Key="documents/" + name)
            assert head["ServerSideEncryption"] == "aws:kms"
            assert head["SSEKMSKeyId"] == s3_bucket.gateway.kms_key_id
        escrow = client.head_object(
            Bucket=s3_bucket.keystore, Key="keystore/" + keys.escrow_names(tenant.agency.pk)[0]
        )
        assert escrow["ServerSideEncryption"] == "aws:kms"
        # Beneath the gateway, RADOS holds neither the plaintext nor the portal's ciphertext.
        served = s3_bucket.fetch(version.storage_name)
        beneath = s3_bucket.gateway.raw_rados_object("documents/" + version.storage_name)
        assert served[:3] == b"RPD"
        assert len(beneath) >= len(served)
        assert served[:64] not in beneath
        assert MARKER not in beneath
        assert b"".join(versions.version_read(version)) == small
        assert b"".join(versions.version_read(uploaded_version)) == large


@pytest.mark.django_db
def test_one_chunk_sent_twice_at_the_same_moment_is_stored_once(settings):
    # Committed on other connections, so the two requests really race for the upload row.
    settings.DOCUMENT_CHUNK_SIZE = 2 * crypto.SEGMENT_SIZE
    content = text_of(settings.DOCUMENT_CHUNK_SIZE + 5000)
    chunk = content[: settings.DOCUMENT_CHUNK_SIZE]

    def setup():
        agency = AgencyFactory(slug=f"chunks-{uuid.uuid4().hex[:10]}")
        with agency_context(agency):
            clerk = UserFactory()
            MembershipFactory(agency=agency, user=clerk, role=Role.STAFF)
            records_request = request_submission.request_submit(
                agency=agency,
                actor=None,
                title="Payroll records",
                description="Payroll, 2025.",
                contact=request_submission.Contact(name="Jane Resident"),
                channel="web",
            )
            upload = upload_services.upload_start(
                records_request=records_request,
                filename="payroll.txt",
                size=len(content),
                actor=clerk,
            )
        return agency, upload

    agency, upload = run_in_committed_thread(setup)

    def hold_upload_row(locked, release):
        with agency_context(agency):
            list(Upload.objects.select_for_update().filter(agency=agency, pk=upload.pk))
            locked.set()
            release.wait(20)

    def send():
        with agency_context(agency):
            return upload_services.upload_chunk(upload=upload, index=0, data=chunk).received

    outcomes = race_behind_a_lock(hold_upload_row, [send, send])

    assert outcomes == [len(chunk), len(chunk)]  # both answered, neither counted it twice

    def stored():
        with agency_context(agency):
            fresh = Upload.objects.get(agency=agency, pk=upload.pk)
            return fresh.received, UploadChunk.objects.filter(upload=fresh).count()

    assert run_in_committed_thread(stored) == (len(chunk), 1)
