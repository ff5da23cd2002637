"""Where seals are kept: write-once, outside the database.

- ``LocalSealStore``: a folder (development: ``.local/seals``). A seal is written to a
  temporary file and linked into place, which fails if the name exists: never overwritten,
  never half-written; the file is then made read-only.
- ``S3SealStore``: a bucket created with Object Lock (production). Every seal is put with
  ``ObjectLockMode=COMPLIANCE`` and a retain-until date ``AUDIT_SEAL_RETENTION_DAYS`` ahead:
  nobody, the bucket's owner included, can delete or change that version before then. An
  Object Lock bucket is versioned, so a later PUT on the same key adds a version and a DELETE
  adds a delete marker; neither touches the locked first version, and the store always reads
  the first version of each name (and says how many came after it). The put also sends
  ``If-None-Match: *`` (AWS refuses to overwrite then; Ceph 16 ignores it), after a HEAD.

Both answer ``StorageError`` (vault.storage) for an outage, ``SealExists`` for a name that is
taken and ``SealMissing`` for an unknown one.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from vault.storage import StorageError

_NAME = re.compile(r"^seals/[a-z0-9-]{1,40}/[0-9]{10}\.json$")


class SealExists(StorageError):
    """A seal under that name is already stored; seals are never overwritten."""


class SealMissing(StorageError):
    """No seal under that name."""


@dataclass(frozen=True)
class StoredSeal:
    name: str
    version: str | None = None  # the S3 version read (the first one written)
    later_versions: int = 0  # versions written over it afterwards (S3 only)
    deleted: bool = False  # the newest version is a delete marker (S3 only)


class SealStore(Protocol):
    def put(self, name: str, data: bytes) -> None: ...
    def get(self, stored: StoredSeal) -> bytes: ...
    def listing(self, prefix: str = "seals/") -> dict[str, StoredSeal]: ...


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a seal name: {name!r}")
    return name


class LocalSealStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def put(self, name: str, data: bytes) -> None:
        path = self.root / _check(name)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(temporary, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o400)
            try:
                os.link(temporary, path)  # fails if the name exists: no overwrite, ever
            except FileExistsError:
                raise SealExists(name) from None
        except OSError as error:
            raise StorageError(f"the seal folder refused the write: {error}") from error
        finally:
            temporary.unlink(missing_ok=True)

    def get(self, stored: StoredSeal) -> bytes:
        try:
            return (self.root / _check(stored.name)).read_bytes()
        except FileNotFoundError:
            raise SealMissing(stored.name) from None
        except OSError as error:
            raise StorageError(f"the seal folder could not be read: {error}") from error

    def listing(self, prefix: str = "seals/") -> dict[str, StoredSeal]:
        base = self.root / "seals"
        if not base.is_dir():
            return {}
        found = {}
        for path in base.glob("*/*.json"):
            name = path.relative_to(self.root).as_posix()
            if _NAME.match(name) and name.startswith(prefix):
                found[name] = StoredSeal(name)
        return dict(sorted(found.items()))


class S3SealStore:
    def __init__(self, *, bucket: str, client: Any, retention_days: int) -> None:
        self.bucket = bucket
        self.client = client  # boto3's S3 client (untyped)
        self.retention_days = retention_days

    def _call(self, method: str, **kwargs: object) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NoSuchVersion"):
                raise SealMissing(str(kwargs.get("Key", ""))) from None
            if code in ("PreconditionFailed", "412"):
                raise SealExists(str(kwargs.get("Key", ""))) from None
            raise StorageError(f"S3 {method}: {code or 'error'}") from error
        except BotoCoreError as error:
            raise StorageError(f"S3 {method}: {type(error).__name__}") from error
        return response

    def put(self, name: str, data: bytes) -> None:
        key = _check(name)
        try:
            self._call("head_object", Key=key)
        except SealMissing:
            pass
        else:
            raise SealExists(name)
        self._call(
            "put_object",
            Key=key,
            Body=data,
            ContentType="application/json",
            IfNoneMatch="*",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=self.retention_days),
        )

    def get(self, stored: StoredSeal) -> bytes:
        extra = {"VersionId": stored.version} if stored.version else {}
        body = self._call("get_object", Key=_check(stored.name), **extra)["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def listing(self, prefix: str = "seals/") -> dict[str, StoredSeal]:
        """Every seal name ever written under ``prefix``, with its first version."""
        # S3 lists each key's versions newest first: the last one listed is the first written
        # (LastModified alone could not tell two versions of the same second apart).
        versions: dict[str, list[tuple[str, bool]]] = {}
        deleted: set[str] = set()
        marker: dict[str, str] = {}
        while True:
            page = self._call("list_object_versions", Prefix=prefix, **marker)
            for item in page.get("Versions", []):
                versions.setdefault(item["Key"], []).append(
                    (item["VersionId"], bool(item.get("IsLatest")))
                )
            for item in page.get("DeleteMarkers", []):
                if item.get("IsLatest"):
                    deleted.add(item["Key"])
            if not page.get("IsTruncated"):
                break
            marker = {
                "KeyMarker": page["NextKeyMarker"],
                "VersionIdMarker": page.get("NextVersionIdMarker", ""),
            }
        found = {}
        for name, items in sorted(versions.items()):
            if _NAME.match(name):
                found[name] = StoredSeal(
                    name,
                    version=items[-1][0],
                    later_versions=len(items) - 1,
                    deleted=name in deleted,
                )
        return found


def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "config": Config(
            signature_version="s3v4",
            s3={"addressing_style": settings.DOCUMENTS_S3_ADDRESSING_STYLE},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
        )
    }
    if settings.DOCUMENTS_S3_ENDPOINT_URL:
        options["endpoint_url"] = settings.DOCUMENTS_S3_ENDPOINT_URL
    if settings.DOCUMENTS_S3_REGION:
        options["region_name"] = settings.DOCUMENTS_S3_REGION
    if settings.DOCUMENTS_S3_ACCESS_KEY_ID:
        options["aws_access_key_id"] = settings.DOCUMENTS_S3_ACCESS_KEY_ID
        options["aws_secret_access_key"] = settings.DOCUMENTS_S3_SECRET_ACCESS_KEY
    return boto3.client("s3", **options)


@lru_cache(maxsize=4)
def _build(bucket: str, root: str, endpoint: str, retention_days: int) -> SealStore:
    if bucket:
        return S3SealStore(bucket=bucket, client=_s3_client(), retention_days=retention_days)
    return LocalSealStore(root)


def seal_store() -> SealStore:
    return _build(
        settings.AUDIT_SEAL_S3_BUCKET,
        str(settings.AUDIT_SEAL_LOCAL_ROOT),
        settings.DOCUMENTS_S3_ENDPOINT_URL,
        settings.AUDIT_SEAL_RETENTION_DAYS,
    )


def reset_cache() -> None:
    """Tests change the store's settings; forget the store built for the old ones."""
    _build.cache_clear()
