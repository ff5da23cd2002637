"""A backup's manifest, and the platform backup key that seals backups.

Each backup is two objects under its kind's prefix (``daily/``, ``weekly/``, ``monthly/``):

    <kind>/<id>.dump   pg_dump's custom format, encrypted with vault.crypto's streaming AEAD
                       (AES-256-GCM segments; the associated data names the backup's id, so a
                       dump copied under another id does not open)
    <kind>/<id>.json   the manifest, written last: a backup without one is not complete

The manifest is JSON: id, kind, start and finish (UTC), the database and tool versions, the
ciphertext's size and SHA-256, the plaintext size, the rows of every table, each audit chain's
head (agency, event id, hash, events) and the newest seal of each chain when the seal store
answered. It carries an HMAC-SHA256 under a key derived from the backup key, and the key's id:
a changed manifest and a wrong key are told apart, both before anything is restored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

FORMAT = 1
KINDS = ("daily", "weekly", "monthly")
_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{6}$")  # UTC date, time, microseconds


class ManifestError(Exception):
    """The manifest is unreadable, changed, or sealed with a key this portal does not have."""


def valid_id(backup_id: str) -> bool:
    return bool(_ID.match(backup_id))


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"portal-backup-key-id\n" + key).hexdigest()[:16]


def associated_data(backup_id: str) -> bytes:
    return f"records-portal/backup/v1|id={backup_id}".encode()


def _mac_key(key: bytes) -> bytes:
    return hashlib.sha256(b"portal-backup-manifest\n" + key).digest()


def current_key() -> bytes:
    key: bytes = settings.BACKUPS.key
    if not key:
        raise ManifestError("BACKUP_KEY is not set: backups cannot be encrypted")
    return key


def key_for(wanted_id: str) -> bytes:
    """The configured key (current or old) with this id, or a clear refusal."""
    keys = [k for k in (settings.BACKUPS.key, *settings.BACKUPS.old_keys) if k]
    for key in keys:
        if key_id(key) == wanted_id:
            return key
    current = key_id(keys[0]) if keys else "none"
    raise ManifestError(
        f"wrong backup key: this backup was encrypted with key {wanted_id}, but BACKUP_KEY is "
        f"{current} and BACKUP_OLD_KEYS holds no key with that id"
    )


@dataclass
class Manifest:
    id: str
    kind: str
    started: str
    finished: str
    database: str
    server_version: int
    dump: str
    size: int
    sha256: str
    plaintext_size: int
    key_id: str
    tables: dict[str, int] = field(default_factory=dict)
    chains: list[dict[str, Any]] = field(default_factory=list)
    seals: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.id}.json"

    def _body(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    def to_bytes(self, key: bytes) -> bytes:
        mac = hmac.new(_mac_key(key), self._body(), hashlib.sha256).hexdigest()
        return json.dumps({**asdict(self), "mac": mac}, indent=1, sort_keys=True).encode()

    @classmethod
    def parse(cls, data: bytes, *, name: str) -> Manifest:
        """Read a manifest (without checking its MAC: ``authenticate`` does)."""
        try:
            raw = json.loads(data)
            raw.pop("mac", None)
            manifest = cls(**raw)
        except (ValueError, TypeError) as error:
            raise ManifestError(f"the manifest {name} is unreadable ({error})") from None
        if manifest.format != FORMAT or not valid_id(manifest.id) or manifest.kind not in KINDS:
            raise ManifestError(f"the manifest {name} is not one this portal writes")
        return manifest

    @classmethod
    def authenticate(cls, data: bytes, *, name: str) -> tuple[Manifest, bytes]:
        """The manifest and the key that opens its backup; ManifestError names what is
        wrong (a wrong key, or a manifest changed after it was written)."""
        manifest = cls.parse(data, name=name)
        key = key_for(manifest.key_id)
        try:
            mac = json.loads(data).get("mac", "")
        except ValueError:
            mac = ""
        expected = hmac.new(_mac_key(key), manifest._body(), hashlib.sha256).hexdigest()
        if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
            raise ManifestError(
                f"the manifest {name} does not authenticate with its backup key: it was "
                "changed after it was written (tampered)"
            )
        return manifest, key
