"""Writes of the documents app: storing and reading encrypted versions, resumable uploads,
release, download links. Each write is one transaction with its audit event; a blob written
to storage by a step that then fails is deleted again, so no half-done upload leaves an
orphan behind.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import audit
from accounts.models import User
from accounts.tenancy import lock_tenant_row
from documents import access, audit_events, keys, types
from documents.models import (
    Document,
    DocumentStatus,
    DocumentVersion,
    DownloadGrant,
    Finding,
    ReleaseLevel,
    Upload,
    UploadChunk,
    UploadStatus,
    VersionKind,
)
from requests_portal import access as request_access
from requests_portal.models import RecordsRequest
from vault import crypto
from vault.storage import documents_store


class DocumentError(Exception):
    """A rule refused the change; the message is for the person who asked."""


# --- Names ---------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")


def clean_filename(name: str, *, extension: str = "") -> str:
    """A filename safe to show and to offer in Content-Disposition: no path, no control or
    exotic characters, a bounded length, and the extension of the type the content has."""
    name = unicodedata.normalize("NFKC", str(name or "")).replace("\\", "/").split("/")[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _UNSAFE.sub("_", stem).strip(" ._")[:120] or "document"
    return f"{stem}.{extension}" if extension else stem


def storage_name(agency_id: int) -> str:
    """Server-generated: nothing of the upload's name or content reaches storage."""
    return f"agency-{agency_id}/{uuid.uuid4().hex}"


# --- Versions ------------------------------------------------------------------------------


class _Counted:
    """Counts the plaintext on its way to the encryptor. (Its SHA-256 is computed by the
    scan, which reads the plaintext anyway: hashing here would halve the storing speed.)"""

    def __init__(self, chunks: Iterable[bytes]):
        self.chunks = chunks
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.size += len(chunk)
            yield chunk


def version_create(
    *,
    document: Document,
    kind: str,
    chunks: Iterable[bytes],
    actor: User | None,
    content_type: str = "",
) -> DocumentVersion:
    """Encrypt and store a new version of a document (streaming: any size, flat memory)."""
    number = (
        DocumentVersion.objects.filter(agency=document.agency_id, document=document)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    ) + 1
    data_key, kek_version, wrapped = keys.new_wrapped_data_key(
        document.agency_id, str(document.public_id), number
    )
    aad = crypto.associated_data(
        agency_id=document.agency_id, document_id=str(document.public_id), version=number
    )
    name = storage_name(document.agency_id)
    counted = _Counted(chunks)
    store = documents_store()
    stored = store.write(name, crypto.encrypt(data_key, aad, counted))
    try:
        with transaction.atomic():
            return DocumentVersion.objects.create(
                agency_id=document.agency_id,
                document=document,
                number=number,
                kind=kind,
                storage_name=name,
                size=counted.size,
                stored_size=stored,
                kek_version=kek_version,
                wrapped_key=wrapped,
                created_by=actor,
                content_type=content_type if content_type != document.content_type else "",
            )
    except BaseException:
        store.delete(name)
        raise


def version_read(version: DocumentVersion) -> Iterator[bytes]:
    """The plaintext of a version, segment by segment; raises crypto.DecryptionError (never
    wrong bytes) if the stored ciphertext was changed, and keys.KeyUnavailable once the
    agency's keys are destroyed."""
    data_key = keys.version_data_key(version)
    aad = crypto.associated_data(
        agency_id=version.agency_id,
        document_id=str(version.document.public_id),
        version=version.number,
    )
    return crypto.decrypt(data_key, aad, documents_store().read(version.storage_name))


def version_stream(version: DocumentVersion) -> Iterator[bytes]:
    """Like version_read, with the keys opened now: the database is not needed while the
    bytes flow (a streamed response outlives the request's transaction)."""
    data_key = keys.version_data_key(version)
    aad = crypto.associated_data(
        agency_id=version.agency_id,
        document_id=str(version.document.public_id),
        version=version.number,
    )
    blobs = documents_store().read(version.storage_name)
    return crypto.decrypt(data_key, aad, blobs)


def version_bytes(version: DocumentVersion, *, limit: int) -> bytes:
    """The whole plaintext in memory, for the steps that need it (PDF parsing, redaction),
    refused above ``limit`` bytes."""
    if version.size > limit:
        raise DocumentError("This file is too large to process here.")
    return b"".join(version_read(version))


# --- Uploads ----------------------------------------------------------------------------------


def upload_limit(agency_id: int, *, by_requester: bool) -> int:
    chosen = access.settings_for_id(agency_id)
    megabytes = chosen.requester_max_upload_mb if by_requester else chosen.max_upload_mb
    return megabytes * 1024 * 1024


def _refuse_upload(request, records_request, filename: str, reason: str, message: str):
    audit.record(
        audit_events.UPLOAD_REFUSED.code,
        http_request=request,
        agency=records_request.agency_id,
        target=records_request,
        details={"filename": filename[:255], "reason": reason},
    )
    raise DocumentError(message)


def upload_start(
    *,
    records_request: RecordsRequest,
    filename: str,
    size: int,
    actor: User,
    by_requester: bool = False,
    request=None,
) -> Upload:
    """Open a resumable upload of ``size`` bytes (refused above the agency's limit)."""
    limit = upload_limit(records_request.agency_id, by_requester=by_requester)
    shown = clean_filename(filename)
    if size < 1:
        _refuse_upload(request, records_request, shown, "empty", "This file is empty.")
    if size > limit:
        _refuse_upload(
            request,
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
    store = documents_store()
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
    store = documents_store()
    earlier = store.stored_part(upload.storage_name, upload.storage_upload_id, number)
    if earlier is None:
        return store.put_part(upload.storage_name, upload.storage_upload_id, number, sealed)
    if earlier == store.part_fingerprint(sealed):
        return earlier
    raise DocumentError(
        "That part of the file was received before with different content. Start the upload again."
    )


def upload_chunk(*, upload: Upload, index: int, data: bytes, request=None) -> Upload:
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
                documents_store().abort_parts(upload.storage_name, upload.storage_upload_id)
                audit.record(
                    audit_events.UPLOAD_REFUSED.code,
                    http_request=request,
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


def upload_complete(*, upload: Upload, actor: User, request=None) -> Document:
    """Join the parts into the version-1 ciphertext, make the document (quarantined) and
    queue its scan."""
    from documents import tasks

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
        store = documents_store()
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
                audit.record(
                    audit_events.UPLOADED.code,
                    http_request=request,
                    agency=upload.agency_id,
                    actor=actor,
                    target=document,
                    details={
                        "filename": document.filename,
                        "size": document.size,
                        "type": document.content_type,
                        "request": upload.request.number,
                    },
                )
        except BaseException:
            store.delete(upload.storage_name)
            raise
        tasks.scan_document.delay_on_commit(agency_id=document.agency_id, document_id=document.pk)
    return document


def upload_abandon(*, upload: Upload) -> None:
    with transaction.atomic():
        upload = lock_tenant_row(upload)
        if upload.status != UploadStatus.RECEIVING:
            return
        documents_store().abort_parts(upload.storage_name, upload.storage_upload_id)
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
    request=None,
) -> Document:
    """A file that arrived in one request (the form without JavaScript): the same checks
    and the same path as a resumable upload, chunk by chunk."""
    upload = upload_start(
        records_request=records_request,
        filename=filename,
        size=size,
        actor=actor,
        by_requester=by_requester,
        request=request,
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
                    request=request,
                )
                del buffer[: upload.chunk_size]
                index += 1
        if buffer or index == 0:
            upload = upload_chunk(upload=upload, index=index, data=bytes(buffer), request=request)
        return upload_complete(upload=upload, actor=actor, request=request)
    except Exception:
        # Whatever stopped it (a refusal, the store, the file being read, the keys), no
        # open upload and no stored parts are left behind.
        upload_abandon(upload=upload)
        raise


# --- Release ----------------------------------------------------------------------------------


def document_release(
    *,
    document: Document,
    level: str,
    actor: User,
    override_reason: str = "",
    request=None,
) -> Document:
    """Set who may see the document. Never more visible than its request; never released
    before its scans; to the public only without unresolved findings, unless the person
    gives a reason to override (audited as such)."""
    if level not in ReleaseLevel.values:
        raise DocumentError("Choose who may see the document.")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .select_related("request")
            .get(agency=document.agency_id, pk=document.pk)
        )
        if level != ReleaseLevel.STAFF and document.status != DocumentStatus.CLEAN:
            raise DocumentError("Only scanned documents can be released.")
        if level != ReleaseLevel.STAFF and (
            document.redaction_running or access.draft_redactions(document).exists()
        ):
            raise DocumentError(
                "This document has redactions that are not applied yet. Apply them (or remove "
                "the drafts) before releasing it."
            )
        if level == ReleaseLevel.PUBLIC:
            if (
                not request_access.public_requests(document.request.agency)
                .filter(pk=document.request_id)
                .exists()
            ):
                raise DocumentError(
                    "This request is not public, so its documents can't be released to the "
                    "public. Release them to the requester, or change the request's visibility."
                )
            unresolved = access.open_findings(document).exclude(kind="malware").count()
            unchecked = not document.pii_checked
            if (unresolved or unchecked) and not override_reason.strip():
                if unchecked and not unresolved:
                    raise DocumentError(
                        "Parts of this document could not be checked for personal data "
                        f"({document.status_detail or 'see the scan'}). Check it yourself, "
                        "then give a reason to release it to the public."
                    )
                raise DocumentError(
                    f"This document has {unresolved} unresolved personal-data finding(s). "
                    "Redact or dismiss them first, or give a reason to release it anyway."
                )
            if unresolved or unchecked:
                audit.record(
                    audit_events.RELEASE_OVERRIDE.code,
                    http_request=request,
                    agency=document.agency_id,
                    actor=actor,
                    target=document,
                    details={
                        "filename": document.filename,
                        "reason": override_reason.strip()[:500],
                        "findings": unresolved,
                        "not_fully_checked": unchecked,
                    },
                )
        old = document.release
        document.release = level
        document.released_at = timezone.now() if level != ReleaseLevel.STAFF else None
        document.released_by = actor if level != ReleaseLevel.STAFF else None
        document.save(update_fields=["release", "released_at", "released_by"])
        if old != level:
            # Links already handed out stop working at once (they last minutes; whoever
            # may still see the document gets a new one).
            link_revoke_all(document=document)
        audit.record(
            audit_events.RELEASED.code,
            http_request=request,
            agency=document.agency_id,
            actor=actor,
            target=document,
            details={
                "filename": document.filename,
                "level": document.get_release_display(),
                "from": old,
                "version": access.released_version(document).number,
            },
        )
        _refresh_public_text(document)
    return document


def _refresh_public_text(document: Document) -> None:
    """Released text feeds the public archive search (documents.search), indexed by the
    worker once the release commits (text extraction can take a while)."""
    from documents import tasks

    tasks.index_document.delay_on_commit(agency_id=document.agency_id, document_id=document.pk)


def finding_resolve(*, finding: Finding, actor: User, resolution: str, request=None) -> None:
    with transaction.atomic():
        updated = Finding.objects.filter(
            agency=finding.agency_id, pk=finding.pk, resolved_at__isnull=True
        ).update(resolved_at=timezone.now(), resolved_by=actor, resolution=resolution[:200])
        if updated:
            audit.record(
                audit_events.FINDING_RESOLVED.code,
                http_request=request,
                agency=finding.agency_id,
                actor=actor,
                target=finding.document,
                details={
                    "filename": finding.document.filename,
                    "kind": finding.kind,
                    "location": finding.location,
                    "resolution": resolution[:200],
                },
            )


# --- Download links ---------------------------------------------------------------------------

_SALT = "documents.download"


def session_digest(session_key: str) -> str:
    return hashlib.sha256(f"download-session:{session_key}".encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    token: str
    grant: DownloadGrant


def link_issue(
    *,
    version: DocumentVersion,
    audience: str,
    user: User | None,
    session_key: str = "",
    request=None,
) -> Link:
    """A link that works for minutes, for this version, for this user (or this visitor's
    session), issued to an audience (staff, requester, public) whose rule the download checks
    again. The token is a signed reference to the grant row, so it can be revoked."""
    if (user is None or not user.is_authenticated) and not session_key:
        raise ValueError("a link is bound to a user or a session")
    grant = DownloadGrant.objects.create(
        agency_id=version.agency_id,
        token_id=secrets.token_urlsafe(18),
        version=version,
        audience=audience,
        user=user if user is not None and user.is_authenticated else None,
        session_digest=""
        if user is not None and user.is_authenticated
        else session_digest(session_key),
        expires_at=timezone.now() + timedelta(seconds=settings.DOCUMENT_LINK_SECONDS),
    )
    token = signing.dumps({"g": grant.token_id, "a": version.agency_id}, salt=_SALT, compress=False)
    audit.record(
        audit_events.LINK_ISSUED.code,
        http_request=request,
        agency=version.agency_id,
        actor=user if user is not None and user.is_authenticated else None,
        target=version.document,
        details={
            "filename": version.document.filename,
            "version": version.number,
            "audience": audience,
            "expires_in_seconds": settings.DOCUMENT_LINK_SECONDS,
        },
    )
    return Link(token, grant)


class LinkRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def link_check(*, token: str, agency_id: int, user: User | None, session_key: str) -> DownloadGrant:
    """The grant behind a token, if the token is genuine, for this agency, unexpired, not
    revoked, and presented by the user (or session) it was issued to."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.DOCUMENT_LINK_SECONDS)
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("tampered or unknown") from None
    if not isinstance(data, dict) or data.get("a") != agency_id:
        raise LinkRefused("another agency's link")
    grant = (
        DownloadGrant.objects.select_related("version__document__request", "user")
        .filter(agency=agency_id, token_id=str(data.get("g", "")))
        .first()
    )
    if grant is None:
        raise LinkRefused("tampered or unknown")
    if grant.revoked_at is not None:
        raise LinkRefused("revoked")
    if grant.expires_at <= timezone.now():
        raise LinkRefused("expired")
    if grant.user_id is not None:
        if user is None or not user.is_authenticated or user.pk != grant.user_id:
            raise LinkRefused("issued to someone else")
    elif not session_key or grant.session_digest != session_digest(session_key):
        raise LinkRefused("issued to someone else")
    return grant


def link_used(grant: DownloadGrant) -> None:
    DownloadGrant.objects.filter(agency=grant.agency_id, pk=grant.pk).update(
        used_count=F("used_count") + 1
    )


def link_revoke_all(*, document: Document) -> int:
    return DownloadGrant.objects.filter(
        agency=document.agency_id, version__document=document, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
