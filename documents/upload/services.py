"""Writes of the resumable upload protocol (and of the form without JavaScript, which goes
the same way chunk by chunk): start, one chunk at a time sealed and stored as one part,
complete (the document, quarantined, and its scan queued), abandon. Each write is one
transaction with its audit event; a storage step that fails leaves no orphan behind.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import User
from accounts.tenancy import lock_tenant_row
from documents import access, audit_events, jobs, keys, types
from documents.errors import DocumentError
from documents.models import (
    Document,
    DocumentVersion,
    Upload,
    UploadChunk,
    UploadStatus,
    VersionKind,
)
from documents.versions import clean_filename, storage_name
from requests_portal.models import RecordsRequest
from vault import crypto
from vault.locations import documents_store, location_of


def upload_limit(agency_id: int, *, by_requester: bool) -> int:
    chosen = access.settings_for_id(agency_id)
    megabytes = chosen.requester_max_upload_mb if by_requester else chosen.max_upload_mb
    return megabytes * 1024 * 1024


def _refuse_upload(
    http_request: HttpRequest | None,
    records_request: RecordsRequest,
    filename: str,
    reason: str,
    message: str,
) -> NoReturn:
    audit.record_for(
        audit_events.UPLOAD_REFUSED,
        records_request,
        http_request=http_request,
        filename=filename[:255],
        reason=reason,
    )
    raise DocumentError(message)


def upload_start(
    *,
    records_request: RecordsRequest,
    filename: str,
    size: int,
    actor: User,
    by_requester: bool = False,
    http_request: HttpRequest | None = None,
) -> Upload:
    """Open a resumable upload of ``size`` bytes (refused above the agency's limit)."""
    limit = upload_limit(records_request.agency_id, by_requester=by_requester)
    shown = clean_filename(filename)
    if size < 1:
        _refuse_upload(http_request, records_request, shown, "empty", "This file is empty.")
    if size > limit:
        _refuse_upload(
            http_request,
            records_request,
            shown,
            "too large",
            f"This file is larger than the {limit // (1024 * 1024)} MB this agency accepts.",
        )
    document_id = uuid.uuid4()
    data_key, kek_version, wrapped = keys.new_wrapped_data_key(
        records_request.agency_id, str(document_id), 1
    )
    del data_key  # only its wrapped form is kept until each chunk is sealed
    name = storage_name(records_request.agency_id)
    store = documents_store(location_of(records_request.agency_id))
    upload_id = store.start_parts(name)
    try:
        with transaction.atomic():
            return Upload.objects.create(
                agency_id=records_request.agency_id,
                request=records_request,
                filename=filename[:255],
                size=size,
                chunk_size=settings.DOCUMENT_CHUNK_SIZE,
                storage_name=name,
                storage_upload_id=upload_id,
                stream_header=crypto.StreamHeader.new().to_bytes(),
                kek_version=kek_version,
                wrapped_key=wrapped,
                document_public_id=document_id,
                uploaded_by=actor,
                by_requester=by_requester,
                expires_at=timezone.now() + timedelta(hours=settings.DOCUMENT_UPLOAD_HOURS),
            )
    except BaseException:
        store.abort_parts(name, upload_id)
        raise


def _upload_key(upload: Upload) -> bytes:
    return keys.data_key(
        upload.agency_id, str(upload.document_public_id), 1, upload.kek_version, upload.wrapped_key
    )


def _store_part(upload: Upload, number: int, sealed: bytes) -> str:
    """Store a sealed chunk, unless an earlier attempt stored *different* ciphertext there.

    The segments of a chunk are sealed under nonces fixed by their position, so the same
    bytes always seal to the same ciphertext. A part can be in storage with no UploadChunk
    row when its request rolled back after the write; if the chunk then came back with other
    bytes, sealing them would reuse those nonces, and two GCM messages under one nonce give
    away the authentication key. So: the same ciphertext is kept, different is refused.
    """
    store = documents_store(location_of(upload.agency_id))
    earlier = store.stored_part(upload.storage_name, upload.storage_upload_id, number)
    if earlier is None:
        return store.put_part(upload.storage_name, upload.storage_upload_id, number, sealed)
    if earlier == store.part_fingerprint(sealed):
        return earlier
    raise DocumentError(
        "That part of the file was received before with different content. Start the upload again."
    )


def upload_chunk(
    *, upload: Upload, index: int, data: bytes, http_request: HttpRequest | None = None
) -> Upload:
    """Seal one chunk and store it as one part. Chunks come in order; sending an already
    received chunk again is harmless when it is the same bytes (a retry after a dropped
    connection) and refused when it differs."""
    refused = False
    with transaction.atomic():
        upload = lock_tenant_row(upload)
        if upload.status != UploadStatus.RECEIVING or upload.expires_at <= timezone.now():
            raise DocumentError("This upload is no longer open. Start it again.")
        digest = hashlib.sha256(data).hexdigest()
        done = UploadChunk.objects.filter(
            agency=upload.agency_id, upload=upload, index=index
        ).first()
        if done is not None:
            if done.sha256 != digest:
                raise DocumentError("That part of the file differs from the one received.")
            return upload
        expected = upload.received // upload.chunk_size
        if index != expected:
            raise DocumentError(f"Send part {expected + 1} of the file next.")
        final = upload.received + len(data) == upload.size
        # An empty chunk is never part of a file: once the whole file has arrived, it would
        # be sealed as a second last segment and the document would not decrypt.
        if (
            not data
            or upload.received + len(data) > upload.size
            or (not final and len(data) != upload.chunk_size)
        ):
            raise DocumentError("That part of the file has the wrong size.")
        if index == 0:
            detected = types.detect(data, filename=upload.filename)
            if detected is None:
                upload.status = UploadStatus.ABANDONED
                upload.save(update_fields=["status"])
                documents_store(location_of(upload.agency_id)).abort_parts(
                    upload.storage_name, upload.storage_upload_id
                )
                audit.record(
                    audit_events.UPLOAD_REFUSED.code,
                    http_request=http_request,
                    agency=upload.agency_id,
                    target=upload.request,
                    details={"filename": upload.filename, "reason": "type not allowed"},
                )
                refused = True
            else:
                upload.content_type = detected.mime
        if not refused:
            header = crypto.StreamHeader.parse(bytes(upload.stream_header))
            aad = crypto.associated_data(
                agency_id=upload.agency_id, document_id=str(upload.document_public_id), version=1
            )
            sealed = crypto.encrypt_range(
                _upload_key(upload),
                header,
                aad,
                data,
                first_segment=index * (upload.chunk_size // header.segment_size),
                final=final,
            )
            etag = _store_part(upload, index + 1, sealed)
            UploadChunk.objects.create(
                agency_id=upload.agency_id,
                upload=upload,
                index=index,
                size=len(data),
                sha256=digest,
                etag=etag,
            )
            upload.received += len(data)
            upload.save(update_fields=["received", "content_type"])
    if refused:
        # Raised once the block is done: raised inside it, the exception rolled the block
        # back, abandonment and audit event included (an open upload whose parts were gone).
        raise DocumentError(types.REFUSAL_MESSAGE)
    return upload


def upload_complete(
    *, upload: Upload, actor: User, http_request: HttpRequest | None = None
) -> Document:
    """Join the parts into the version-1 ciphertext, make the document (quarantined) and
    queue its scan."""
    with transaction.atomic():
        upload = lock_tenant_row(upload)
        if upload.status != UploadStatus.RECEIVING:
            raise DocumentError("This upload is no longer open. Start it again.")
        if upload.received != upload.size:
            raise DocumentError("Some of the file has not arrived yet.")
        parts = list(
            UploadChunk.objects.filter(agency=upload.agency_id, upload=upload).values_list(
                "index", "etag"
            )
        )
        store = documents_store(location_of(upload.agency_id))
        stored = store.complete_parts(
            upload.storage_name, upload.storage_upload_id, [(i + 1, etag) for i, etag in parts]
        )
        try:
            with transaction.atomic():
                detected = types.by_mime(upload.content_type)
                document = Document.objects.create(
                    agency_id=upload.agency_id,
                    public_id=upload.document_public_id,
                    request=upload.request,
                    filename=clean_filename(upload.filename, extension=detected.extension),
                    content_type=upload.content_type,
                    size=upload.size,
                    uploaded_by=actor,
                    uploaded_by_requester=upload.by_requester,
                )
                DocumentVersion.objects.create(
                    agency_id=upload.agency_id,
                    document=document,
                    number=1,
                    kind=VersionKind.ORIGINAL,
                    storage_name=upload.storage_name,
                    size=upload.size,
                    stored_size=stored,
                    kek_version=upload.kek_version,
                    wrapped_key=upload.wrapped_key,
                    created_by=actor,
                )
                UploadChunk.objects.filter(agency=upload.agency_id, upload=upload).delete()
                upload.status = UploadStatus.COMPLETE
                upload.save(update_fields=["status"])
                audit_events.record_about(
                    audit_events.UPLOADED,
                    document,
                    actor=actor,
                    http_request=http_request,
                    size=document.size,
                    type=document.content_type,
                    request=upload.request.number,
                )
        except BaseException:
            store.delete(upload.storage_name)
            raise
        jobs.scan_document(agency_id=document.agency_id, document_id=document.pk)
    return document


def upload_abandon(*, upload: Upload) -> None:
    with transaction.atomic():
        upload = lock_tenant_row(upload)
        if upload.status != UploadStatus.RECEIVING:
            return
        documents_store(location_of(upload.agency_id)).abort_parts(
            upload.storage_name, upload.storage_upload_id
        )
        UploadChunk.objects.filter(agency=upload.agency_id, upload=upload).delete()
        upload.status = UploadStatus.ABANDONED
        upload.save(update_fields=["status"])


def upload_whole(
    *,
    records_request: RecordsRequest,
    filename: str,
    size: int,
    chunks: Iterable[bytes],
    actor: User,
    by_requester: bool = False,
    http_request: HttpRequest | None = None,
) -> Document:
    """A file that arrived in one request (the form without JavaScript): the same checks
    and the same path as a resumable upload, chunk by chunk."""
    upload = upload_start(
        records_request=records_request,
        filename=filename,
        size=size,
        actor=actor,
        by_requester=by_requester,
        http_request=http_request,
    )
    try:
        buffer = bytearray()
        index = 0
        for piece in chunks:
            buffer += piece
            while len(buffer) >= upload.chunk_size:
                upload = upload_chunk(
                    upload=upload,
                    index=index,
                    data=bytes(buffer[: upload.chunk_size]),
                    http_request=http_request,
                )
                del buffer[: upload.chunk_size]
                index += 1
        if buffer or index == 0:
            upload = upload_chunk(
                upload=upload, index=index, data=bytes(buffer), http_request=http_request
            )
        return upload_complete(upload=upload, actor=actor, http_request=http_request)
    except Exception:
        # Whatever stopped it (a refusal, the store, the file being read, the keys), no
        # open upload and no stored parts are left behind.
        upload_abandon(upload=upload)
        raise
