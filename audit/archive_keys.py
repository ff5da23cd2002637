"""The keys of the audit log's archives.

Each archive has its own data key, wrapped with the agency's key (the documents key
hierarchy, so destroying an agency's keys, crypto-shredding, makes its archived log
unreadable as well as its documents). The platform chain's archives wrap their data key with
the master keyring. The documents app sits above the audit app, so it hands its wrapping
functions over at start-up (documents/apps.py) instead of being imported from here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

from vault import keyring


class ArchiveKeyUnavailable(Exception):
    """The key that opens an archive is gone (the agency's keys were destroyed) or wrong."""


@dataclass(frozen=True)
class AgencyWrapping:
    # (agency id, data key, associated data) -> (agency key version, wrapped data key)
    wrap: Callable[[int, bytes, bytes], tuple[int, bytes]]
    # (agency id, agency key version, wrapped data key, associated data) -> data key;
    # raises ArchiveKeyUnavailable
    unwrap: Callable[[int, int, bytes, bytes], bytes]


_agency_wrapping: list[AgencyWrapping] = []


def register_agency_wrapping(wrapping: AgencyWrapping) -> None:
    _agency_wrapping[:] = [wrapping]


def _wrapping() -> AgencyWrapping:
    if not _agency_wrapping:
        raise ArchiveKeyUnavailable("no agency key hierarchy is registered (documents app)")
    return _agency_wrapping[0]


def wrap_data_key(agency_id: int | None, data_key: bytes, aad: bytes) -> dict[str, object]:
    """The manifest's description of the archive key: which key wraps it, and the wrapped
    data key (base64)."""
    if agency_id is None:
        sealed = keyring.seal(data_key, aad=aad.decode())
        return {"wrapped_by": "master", "wrapped": base64.b64encode(sealed).decode()}
    version, wrapped = _wrapping().wrap(agency_id, data_key, aad)
    return {
        "wrapped_by": "agency",
        "version": version,
        "wrapped": base64.b64encode(wrapped).decode(),
    }


def unwrap_data_key(
    agency_id: int | None, key: dict[str, object], aad: bytes, resealed: bytes | None = None
) -> bytes:
    """The archive's data key. ``resealed``: the platform chain's key sealed again after a
    master-key rotation (AuditArchive.resealed_key), tried before the manifest's own."""
    wrapped = base64.b64decode(str(key["wrapped"]))
    if agency_id is None:
        try:
            return keyring.open_sealed(resealed or wrapped, aad=aad.decode())
        except keyring.SealError as error:
            raise ArchiveKeyUnavailable(str(error)) from None
    version = key.get("version")  # agency keys rotate by version: old versions stay
    if not isinstance(version, int):
        raise ArchiveKeyUnavailable("the manifest names no agency key version")
    return _wrapping().unwrap(agency_id, version, wrapped, aad)


def reseal_platform_key(key: dict[str, object], aad: bytes, resealed: bytes | None) -> bytes | None:
    """The platform archive's data key sealed with the current master key, or None when it
    already is. Raises ArchiveKeyUnavailable when no configured key opens it."""
    current = resealed or base64.b64decode(str(key["wrapped"]))
    if keyring.sealed_with_current_key(current):
        return None
    try:
        data_key = keyring.open_sealed(current, aad=aad.decode())
    except keyring.SealError as error:
        raise ArchiveKeyUnavailable(str(error)) from None
    return keyring.seal(data_key, aad=aad.decode())
