"""The format of an audit archive: one chain's events of one month, encrypted, plus a manifest.

    <chain>/<YYYY-MM>.jsonl.enc        JSON Lines, one event per line with every stored
                                       field (so the chain recomputes from the archive
                                       alone), encrypted with vault.crypto's streaming AEAD
                                       under a fresh data key
    <chain>/<YYYY-MM>.manifest.json    what the archive holds: chain, month, event count,
                                       first and last chain positions (ids) and hashes, the
                                       previous hash the month starts from, the SHA-256 of
                                       the plaintext and of the ciphertext, and the data key
                                       wrapped with the agency's key (audit/archive_keys.py)

``<chain>`` is ``agency-<id>`` or ``platform``. The manifest is signed with the audit seal
key (Ed25519, ``AUDIT_SEAL_PRIVATE_KEY``, which the database never holds) and its SHA-256
(of its canonical JSON, signature included) is kept in the database
(AuditArchive.manifest_sha256), so a manifest changed in storage, or in the database, is
noticed. Destroying the agency's keys leaves the wrapped data key unopenable:
the archive is then unreadable wherever a copy of it lies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from audit import audit_events
from audit.archive_keys import (
    ArchiveKeyUnavailable,
    reseal_platform_key,
    unwrap_data_key,
    wrap_data_key,
)
from audit.chain import append, event_hash, set_chain_context
from audit.models import AuditArchive, AuditEvent
from audit.seals import format as seal_format
from vault import crypto, signing
from vault.storage import BlobStore, StorageError

FORMAT = "records-portal/audit-archive/v1"


class ArchiveInvalid(Exception):
    """The archive cannot be read, or what it holds does not match its manifest."""


def chain_name(agency_id: int | None) -> str:
    return f"agency-{agency_id}" if agency_id else "platform"


def blob_name(agency_id: int | None, month: date) -> str:
    return f"{chain_name(agency_id)}/{month:%Y-%m}.jsonl.enc"


def manifest_name(agency_id: int | None, month: date) -> str:
    return f"{chain_name(agency_id)}/{month:%Y-%m}.manifest.json"


def associated_data(agency_id: int | None, month: date) -> bytes:
    """Binds the ciphertext to its chain and month: an archive copied under another agency or
    month does not decrypt."""
    return f"{FORMAT}|chain={chain_name(agency_id)}|month={month:%Y-%m}".encode()


def _fields() -> list[str]:
    return [field.attname for field in AuditEvent._meta.concrete_fields]


def event_line(event: AuditEvent) -> bytes:
    row: dict[str, Any] = {name: getattr(event, name) for name in _fields()}
    row["created_at"] = event.created_at.isoformat(timespec="microseconds")
    return json.dumps(row, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def event_from_line(line: bytes) -> AuditEvent:
    row = json.loads(line)
    row["created_at"] = datetime.fromisoformat(row["created_at"])
    known = set(_fields())
    return AuditEvent(**{name: value for name, value in row.items() if name in known})


def canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def manifest_digest(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(manifest)).hexdigest()


def write(
    agency_id: int | None, month: date, events: Iterable[AuditEvent], store: BlobStore
) -> dict[str, Any]:
    """Encrypt and store the events (in chain order) and their manifest; returns it."""
    summary: dict[str, Any] = {"events": 0}
    plain_digest, cipher_digest = hashlib.sha256(), hashlib.sha256()

    def lines() -> Iterator[bytes]:
        for event in events:
            if summary["events"] == 0:
                summary["first_id"], summary["first_prev_hash"] = event.pk, event.prev_hash
            summary["events"] += 1
            summary["last_id"], summary["last_hash"] = event.pk, event.hash
            line = event_line(event)
            plain_digest.update(line)
            yield line

    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            cipher_digest.update(chunk)
            yield chunk

    data_key = crypto.new_data_key()
    aad = associated_data(agency_id, month)
    key = wrap_data_key(agency_id, data_key, aad)
    name = blob_name(agency_id, month)
    size = store.write(name, counted(crypto.encrypt(data_key, aad, lines())))
    if not summary["events"]:
        raise ArchiveInvalid("an archive of no events")
    manifest = {
        "format": FORMAT,
        "agency": agency_id,
        "month": f"{month:%Y-%m}",
        **summary,
        "plaintext_sha256": plain_digest.hexdigest(),
        "ciphertext_sha256": cipher_digest.hexdigest(),
        "ciphertext_bytes": size,
        "key": key,
        "blob": name,
    }
    if settings.AUDIT_SEAL_PRIVATE_KEY:  # always in production (config/audit_settings.py)
        seal_key = seal_format.signing_key()
        manifest["signature"] = {
            "key_id": signing.key_id(seal_key.public_key()),
            "ed25519": signing.sign(seal_key, canonical(manifest)),
        }
    store.write(manifest_name(agency_id, month), [canonical(manifest)])
    return manifest


def signature_problem(manifest: dict[str, Any]) -> str | None:
    """Why the manifest's signature (by the audit seal key) does not hold, or None. An
    unsigned manifest (made where no seal key was configured) has only its hash."""
    signature = manifest.get("signature")
    if signature is None:
        return None
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    key = seal_format.verification_keys().get(str(signature.get("key_id")))
    if key is None:
        return "the manifest is signed with a key that is not a known verification key"
    if not signing.signature_valid(key, canonical(unsigned), str(signature.get("ed25519"))):
        return "the manifest's signature is not valid"
    return None


def read_verified(archive: AuditArchive, store: BlobStore) -> list[AuditEvent]:
    """Every event of the archive, after checking the manifest in storage against the
    database's hash of it, decrypting, and recomputing the chain from the manifest's first
    previous hash to its last hash. Raises ArchiveInvalid (or ArchiveKeyUnavailable when the
    agency's keys were destroyed)."""
    manifest = archive.manifest
    month = archive.month
    try:
        stored = b"".join(store.read(manifest_name(archive.agency_id, month)))
        if hashlib.sha256(stored).hexdigest() != archive.manifest_sha256:
            raise ArchiveInvalid("the manifest in storage is not the one recorded")
        if manifest_digest(manifest) != archive.manifest_sha256:
            raise ArchiveInvalid("the recorded manifest does not match its hash")
        if problem := signature_problem(manifest):
            raise ArchiveInvalid(problem)
        aad = associated_data(archive.agency_id, month)
        resealed = bytes(archive.resealed_key) if archive.resealed_key else None
        data_key = unwrap_data_key(archive.agency_id, manifest["key"], aad, resealed)
        cipher_digest = hashlib.sha256()

        def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
            for chunk in chunks:
                cipher_digest.update(chunk)
                yield chunk

        plaintext = b"".join(crypto.decrypt(data_key, aad, counted(store.read(manifest["blob"]))))
    except StorageError as error:
        raise ArchiveInvalid(f"the archive cannot be read from storage: {error}") from None
    except crypto.DecryptionError as error:
        raise ArchiveInvalid(f"the archive does not decrypt: {error}") from None
    if cipher_digest.hexdigest() != manifest["ciphertext_sha256"]:
        raise ArchiveInvalid("the ciphertext is not the one the manifest names")
    if hashlib.sha256(plaintext).hexdigest() != manifest["plaintext_sha256"]:
        raise ArchiveInvalid("the contents are not the ones the manifest names")
    events = [event_from_line(line) for line in plaintext.splitlines(keepends=True)]
    _check_chain(events, manifest)
    return events


def _check_chain(events: list[AuditEvent], manifest: dict[str, Any]) -> None:
    if len(events) != manifest["events"]:
        raise ArchiveInvalid("the archive holds another number of events than its manifest")
    prev_hash = manifest["first_prev_hash"]
    for event in events:
        if event.prev_hash != prev_hash or event_hash(event, prev_hash) != event.hash:
            raise ArchiveInvalid(f"the chain breaks at event {event.pk} in the archive")
        prev_hash = event.hash
    if (events[0].pk, events[-1].pk, prev_hash) != (
        manifest["first_id"],
        manifest["last_id"],
        manifest["last_hash"],
    ):
        raise ArchiveInvalid("the archive's chain ends are not the manifest's")


def reseal_platform_archives() -> tuple[int, list[str]]:
    """Seal the data key of every platform archive with the current master key (after a
    master-key rotation; agency archives are wrapped by agency keys, which rotate_keys
    re-seals). Returns (re-sealed, problems: the months no configured key opens)."""
    resealed, problems, months = 0, [], []
    with transaction.atomic():
        set_chain_context(None)
        rows = AuditArchive.objects.filter(agency__isnull=True).select_for_update()
        for row in rows.order_by("month"):
            current = bytes(row.resealed_key) if row.resealed_key else None
            try:
                new = reseal_platform_key(
                    row.manifest["key"], associated_data(None, row.month), current
                )
            except ArchiveKeyUnavailable as error:
                problems.append(f"platform audit archive {row.month:%Y-%m}: {error}")
                continue
            if new is not None:
                row.resealed_key = new
                row.save(update_fields=["resealed_key"])
                resealed += 1
                months.append(f"{row.month:%Y-%m}")
        if months:
            append(
                audit_events.ARCHIVES_RESEALED.code,
                agency_id=None,
                target_type="audit.auditarchive",
                details={"count": len(months), "months": ", ".join(months)},
            )
    return resealed, problems


__all__ = [
    "ArchiveInvalid",
    "ArchiveKeyUnavailable",
    "read_verified",
    "reseal_platform_archives",
    "write",
]
