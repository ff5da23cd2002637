"""Stored versions of a document: their names, and writing and reading them encrypted.
Every version is encrypted under its own data key (documents.keys) and streamed, so a file
of any size is stored and read in flat memory; a blob written to storage whose row then
fails is deleted again, so no orphan is left behind.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator

from django.db import transaction

from accounts.models import User
from documents import keys
from documents.errors import DocumentError
from documents.models import Document, DocumentVersion
from vault import crypto
from vault.locations import documents_store, location_of

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
    store = documents_store(location_of(document.agency_id))
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
    agency's keys are destroyed. The keys are opened now, not when the bytes are read: the
    database is not needed while they flow (a streamed response outlives the request's
    transaction)."""
    data_key = keys.version_data_key(version)
    aad = crypto.associated_data(
        agency_id=version.agency_id,
        document_id=str(version.document.public_id),
        version=version.number,
    )
    return crypto.decrypt(
        data_key, aad, documents_store(location_of(version.agency_id)).read(version.storage_name)
    )


def version_bytes(version: DocumentVersion, *, limit: int) -> bytes:
    """The whole plaintext in memory, for the steps that need it (PDF parsing, redaction),
    refused above ``limit`` bytes."""
    if version.size > limit:
        raise DocumentError("This file is too large to process here.")
    return b"".join(version_read(version))
