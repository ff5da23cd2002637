"""The key hierarchy of documents.

    master keyring (PORTAL_MASTER_KEYS, or AWS KMS)     outer layer of each agency key
      + escrow key per agency key version (key store)    inner layer; deleted to shred
        -> agency key-encryption key (AgencyKey.wrapped)
          -> per-version data key (DocumentVersion.wrapped_key)
            -> content (vault.crypto streaming AEAD)

- Rotating the master key re-seals the outer layer of every agency key (``reseal``);
  rotating an agency key makes a new version and re-wraps every data key (``rotate``).
  Neither touches content.
- Destroying an agency's keys (``destroy_agency_keys``) deletes the escrow keys from the key
  store and overwrites the rows: every copy of the database, backups included, then holds
  only keys that nothing can open, so the documents are unreadable everywhere.
"""

from __future__ import annotations

import hashlib
import os
import threading

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from documents.models import AgencyKey, DocumentVersion, Upload
from vault import crypto, keyring
from vault.locations import key_store, location_of
from vault.storage import BlobMissing


class KeyUnavailable(Exception):
    """The agency's key cannot be opened: destroyed (shredded), or its escrow is gone."""


_KEY_LOCK = 0x4B455953  # "KEYS": advisory-lock namespace for creating an agency's first key
_cache: dict[tuple[int, int, str], bytes] = {}
_cache_lock = threading.Lock()


def _outer_aad(agency_id: int, version: int) -> str:
    return f"documents/agency-key|agency={agency_id}|version={version}"


def _inner_aad(agency_id: int, version: int) -> bytes:
    return f"documents/agency-key-escrow|agency={agency_id}|version={version}".encode()


def _escrow_prefix(agency_id: int) -> str:
    return f"agency-{agency_id}/"


def _escrow_name(agency_id: int, version: int, inner: bytes) -> str:
    """Each attempt at making a key version writes its escrow under a name of its own,
    derived from the inner layer (which re-sealing the outer layer never changes). A write
    that timed out may still be carried out later by a stalled store; under a shared name it
    would overwrite the escrow of the retry that succeeded, and that key would never open."""
    token = hashlib.sha256(inner).hexdigest()[:24]
    return f"{_escrow_prefix(agency_id)}key-{version}-{token}"


def _legacy_escrow_name(agency_id: int, version: int) -> str:
    # Keys made before escrow names were per attempt; still read, still shredded.
    return f"{_escrow_prefix(agency_id)}key-{version}"


def _dek_aad(agency_id: int, document_id: str, number: int) -> bytes:
    return f"documents/data-key|agency={agency_id}|document={document_id}|version={number}".encode()


# --- The outer layer: master keyring or KMS ------------------------------------------------


def _kms_client():
    import boto3

    return boto3.client(
        "kms",
        region_name=settings.DOCUMENTS_KMS_REGION or None,
        endpoint_url=settings.DOCUMENTS_KMS_ENDPOINT_URL or None,
    )


def _seal_outer(agency_id: int, version: int, inner: bytes) -> tuple[str, bytes]:
    if settings.DOCUMENTS_KMS_KEY_ID:
        response = _kms_client().encrypt(
            KeyId=settings.DOCUMENTS_KMS_KEY_ID,
            Plaintext=inner,
            EncryptionContext={"agency": str(agency_id), "version": str(version)},
        )
        return AgencyKey.Backend.KMS, response["CiphertextBlob"]
    return AgencyKey.Backend.MASTER, keyring.seal(inner, aad=_outer_aad(agency_id, version))


def _open_outer(row: AgencyKey) -> bytes:
    wrapped = bytes(row.wrapped)
    if row.backend == AgencyKey.Backend.KMS:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return _kms_client().decrypt(
                CiphertextBlob=wrapped,
                EncryptionContext={"agency": str(row.agency_id), "version": str(row.version)},
            )["Plaintext"]
        except (ClientError, BotoCoreError) as error:
            raise KeyUnavailable("AWS KMS refused to open the agency key") from error
    try:
        return keyring.open_sealed(wrapped, aad=_outer_aad(row.agency_id, row.version))
    except keyring.SealError as error:
        raise KeyUnavailable(str(error)) from None


# --- Agency keys -----------------------------------------------------------------------------


def _lock_agency_keys(agency_id: int) -> None:
    """Serialise the making of an agency's keys, to the end of the current transaction.

    Raw SQL because advisory locks have no ORM form (and there is no row to lock before the
    first key exists); both numbers are bound parameters. Tested by
    test_the_first_uploads_racing_make_agency_key_v1_exactly_once and
    test_two_rotations_racing_leave_every_document_readable."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- an advisory lock; the ORM has none; bound parameters
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_KEY_LOCK, int(agency_id)])


def create_agency_key(agency_id: int) -> AgencyKey:
    """A new version of the agency's key (the first one on its first upload)."""
    with transaction.atomic():
        # Two makers racing (two rotations) would pick the same version and write the same
        # escrow name; the loser's clean-up would then delete the winner's escrow key.
        _lock_agency_keys(agency_id)
        if AgencyKey.objects.filter(agency_id=agency_id, destroyed_at__isnull=False).exists():
            raise KeyUnavailable("this agency's keys were destroyed")
        latest = AgencyKey.objects.filter(agency_id=agency_id).order_by("-version").first()
        version = (latest.version + 1) if latest else 1
        kek, escrow = os.urandom(32), os.urandom(32)
        inner = crypto.wrap(escrow, kek, aad=_inner_aad(agency_id, version))
        name = _escrow_name(agency_id, version, inner)
        key_store(location_of(agency_id)).write(name, [escrow])
        try:
            backend, outer = _seal_outer(agency_id, version, inner)
            with transaction.atomic():
                return AgencyKey.objects.create(
                    agency_id=agency_id, version=version, backend=backend, wrapped=outer
                )
        except BaseException:
            key_store(location_of(agency_id)).delete(name)  # no escrow without its row
            raise


def current_key(agency_id: int) -> AgencyKey:
    row = (
        AgencyKey.objects.filter(agency_id=agency_id, destroyed_at__isnull=True)
        .order_by("-version")
        .first()
    )
    if row is not None:
        return row
    if AgencyKey.objects.filter(agency_id=agency_id, destroyed_at__isnull=False).exists():
        raise KeyUnavailable("this agency's keys were destroyed")
    # Serialise the first key of an agency: two uploads racing must not both make one (there
    # is no row to lock yet, so an advisory lock held to the end of the transaction).
    with transaction.atomic():
        _lock_agency_keys(agency_id)
        row = AgencyKey.objects.filter(agency_id=agency_id).order_by("-version").first()
        return row if row is not None else create_agency_key(agency_id)


def _open_key(row: AgencyKey) -> bytes:
    if row.destroyed_at is not None:
        raise KeyUnavailable("this agency's keys were destroyed")
    fingerprint = hashlib.sha256(bytes(row.wrapped)).hexdigest()
    cache_key = (row.agency_id, row.version, fingerprint)
    with _cache_lock:
        if cache_key in _cache:
            return _cache[cache_key]
    inner = _open_outer(row)
    escrow = _read_escrow(row.agency_id, row.version, inner)
    try:
        kek = crypto.unwrap(escrow, inner, aad=_inner_aad(row.agency_id, row.version))
    except crypto.DecryptionError as error:
        raise KeyUnavailable(str(error)) from None
    with _cache_lock:
        _cache[cache_key] = kek
    return kek


def _read_escrow(agency_id: int, version: int, inner: bytes) -> bytes:
    store = key_store(location_of(agency_id))
    for name in (_escrow_name(agency_id, version, inner), _legacy_escrow_name(agency_id, version)):
        try:
            return b"".join(store.read(name))
        except BlobMissing:
            continue
    raise KeyUnavailable("the agency key's escrow is gone (destroyed)")


def agency_key(agency_id: int, version: int) -> bytes:
    row = AgencyKey.objects.filter(agency_id=agency_id, version=version).first()
    if row is None:
        raise KeyUnavailable("no such agency key")
    return _open_key(row)


def forget_cached_keys() -> None:
    with _cache_lock:
        _cache.clear()


# --- Data keys -------------------------------------------------------------------------------


def new_wrapped_data_key(agency_id: int, document_id: str, number: int) -> tuple[bytes, int, bytes]:
    """(data key, agency key version, wrapped data key) for a new document version."""
    row = current_key(agency_id)
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap(_open_key(row), data_key, aad=_dek_aad(agency_id, document_id, number))
    return data_key, row.version, wrapped


def data_key(
    agency_id: int, document_id: str, number: int, kek_version: int, wrapped: crypto.BytesLike
) -> bytes:
    try:
        return crypto.unwrap(
            agency_key(agency_id, kek_version),
            bytes(wrapped),
            aad=_dek_aad(agency_id, document_id, number),
        )
    except crypto.DecryptionError as error:
        raise KeyUnavailable(str(error)) from None


def version_data_key(version: DocumentVersion) -> bytes:
    return data_key(
        version.agency_id,
        str(version.document.public_id),
        version.number,
        version.kek_version,
        version.wrapped_key,
    )


# --- The audit log's archives (audit/archive_keys.py) --------------------------------------


def wrap_archive_key(agency_id: int, archive_key: bytes, aad: bytes) -> tuple[int, bytes]:
    """Wrap an audit archive's data key with the agency's current key: (version, wrapped)."""
    row = current_key(agency_id)
    return row.version, crypto.wrap(_open_key(row), archive_key, aad=aad)


def unwrap_archive_key(agency_id: int, version: int, wrapped: bytes, aad: bytes) -> bytes:
    from audit.archive_keys import ArchiveKeyUnavailable

    try:
        return crypto.unwrap(agency_key(agency_id, version), wrapped, aad=aad)
    except (KeyUnavailable, crypto.DecryptionError) as error:
        raise ArchiveKeyUnavailable(str(error)) from None


# --- Rotation and destruction ------------------------------------------------------------------


def reseal(agency_id: int) -> int:
    """Seal the outer layer of the agency's live keys with the current master key (or KMS
    key). Returns how many were re-sealed."""
    count = 0
    for row in AgencyKey.objects.select_for_update().filter(
        agency_id=agency_id, destroyed_at__isnull=True
    ):
        if (
            not settings.DOCUMENTS_KMS_KEY_ID  # else master-sealed keys move to KMS
            and row.backend == AgencyKey.Backend.MASTER
            and keyring.sealed_with_current_key(row.wrapped)
        ):
            continue
        inner = _open_outer(row)
        row.backend, row.wrapped = _seal_outer(agency_id, row.version, inner)
        row.save(update_fields=["backend", "wrapped"])
        count += 1
    return count


def rotate(agency_id: int) -> tuple[int, int]:
    """A new agency key version; every data key (documents and uploads in progress) is
    re-wrapped with it. Content is not touched. Returns (new version, keys re-wrapped)."""
    new_row = create_agency_key(agency_id)
    new_kek = _open_key(new_row)
    rewrapped = 0
    for version in (
        DocumentVersion.objects.select_for_update()
        .filter(agency_id=agency_id)
        .select_related("document")
    ):
        key = version_data_key(version)
        version.wrapped_key = crypto.wrap(
            new_kek, key, aad=_dek_aad(agency_id, str(version.document.public_id), version.number)
        )
        version.kek_version = new_row.version
        version.save(update_fields=["wrapped_key", "kek_version"])
        rewrapped += 1
    for upload in Upload.objects.select_for_update().filter(agency_id=agency_id):
        key = data_key(
            agency_id, str(upload.document_public_id), 1, upload.kek_version, upload.wrapped_key
        )
        upload.wrapped_key = crypto.wrap(
            new_kek, key, aad=_dek_aad(agency_id, str(upload.document_public_id), 1)
        )
        upload.kek_version = new_row.version
        upload.save(update_fields=["wrapped_key", "kek_version"])
        rewrapped += 1
    return new_row.version, rewrapped


def escrow_names(agency_id: int) -> list[str]:
    """The key store's names of every escrow key of the agency (an expunge deletes them):
    everything under its prefix, so an escrow whose row never committed (a write a stalled
    store carried out after its attempt gave up) is shredded too."""
    return key_store(location_of(agency_id)).names(_escrow_prefix(agency_id))


def destroy_agency_keys(agency_id: int) -> int:
    """Crypto-shredding: delete every escrow key of the agency and overwrite its rows.
    Irreversible. Returns how many key versions were destroyed."""
    rows = list(AgencyKey.objects.select_for_update().filter(agency_id=agency_id))
    store = key_store(location_of(agency_id))
    for name in escrow_names(agency_id):
        store.delete(name)
    for row in rows:
        row.wrapped = b"\x00" * len(bytes(row.wrapped))
        row.destroyed_at = row.destroyed_at or timezone.now()
        row.save(update_fields=["wrapped", "destroyed_at"])
    forget_cached_keys()
    return len(rows)
