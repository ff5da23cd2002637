"""Storage locations (data sovereignty, issue 13): which store holds what, and where.

Every agency's blobs (its documents' ciphertext and upload parts, its escrow keys, its audit
archives) live in one location, ``Agency.storage_location``: a bucket in one region,
optionally with a KMS key of its own. Locations are deployment configuration
(``settings.STORAGE_LOCATIONS``, config/storage_settings.py, checked by vault.checks), never
rows: an operator picks one, nobody types credentials. ``default`` always exists and is the
``DOCUMENTS_S3_*`` settings, so a deployment that names no location is unchanged. Without S3
(the embedded default) each location is a folder: the default keeps ``.local/documents`` (its
key store and archives beside it, as before), the others get ``.local/locations/<name>/``.

Every store function takes the location's name; nothing picks one for the caller. A blob
without an agency (the platform's audit archives, residents' exports) goes to the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from vault.storage import BlobStore, LocalBlobStore, S3BlobStore, build_local, build_s3

DEFAULT_LOCATION = "default"
LOCATION_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LOCATION_KEYS = frozenset(
    {"label", "bucket", "key_bucket", "region", "endpoint_url", "sse", "kms_key_id"}
)
SSE_CHOICES = ("", "AES256", "aws:kms")


class UnknownLocation(ValueError):
    """No storage location of that name is configured."""


@dataclass(frozen=True)
class Location:
    name: str
    label: str
    bucket: str  # "" when the deployment keeps its blobs in folders
    key_bucket: str
    region: str
    endpoint_url: str
    sse: str
    kms_key_id: str
    documents_root: Path
    keystore_root: Path
    archives_root: Path


def _configured() -> dict[str, dict[str, Any]]:
    configured = getattr(settings, "STORAGE_LOCATIONS", None) or {}
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in configured.items()}


def _default_location(entry: dict[str, Any]) -> Location:
    documents_root = Path(settings.DOCUMENTS_LOCAL_ROOT)
    return Location(
        name=DEFAULT_LOCATION,
        label=str(entry.get("label") or "Default"),
        bucket=settings.DOCUMENTS_S3_BUCKET,
        key_bucket=settings.KEYSTORE_S3_BUCKET or settings.DOCUMENTS_S3_BUCKET,
        region=settings.DOCUMENTS_S3_REGION,
        endpoint_url=settings.DOCUMENTS_S3_ENDPOINT_URL,
        sse=settings.DOCUMENTS_S3_SSE,
        kms_key_id=settings.DOCUMENTS_S3_KMS_KEY_ID,
        documents_root=documents_root,
        keystore_root=Path(settings.KEYSTORE_LOCAL_ROOT),
        archives_root=documents_root.parent / "audit-archives",
    )


def _other_location(name: str, entry: dict[str, Any]) -> Location:
    folder = Path(settings.DOCUMENTS_LOCAL_ROOT).parent / "locations" / name
    kms_key_id = str(entry.get("kms_key_id") or "")
    # A KMS key means SSE-KMS; otherwise the location's own choice, else the deployment's.
    sse = "aws:kms" if kms_key_id else str(entry.get("sse") or settings.DOCUMENTS_S3_SSE or "")
    # One deployment keeps every location in buckets (S3) or every one in folders.
    in_s3 = bool(settings.DOCUMENTS_S3_BUCKET)
    bucket = str(entry.get("bucket") or "") if in_s3 else ""
    return Location(
        name=name,
        label=str(entry.get("label") or name),
        bucket=bucket,
        key_bucket=str(entry.get("key_bucket") or bucket) if in_s3 else "",
        region=str(entry.get("region") or ""),
        endpoint_url=str(entry.get("endpoint_url") or settings.DOCUMENTS_S3_ENDPOINT_URL),
        sse=sse,
        kms_key_id=kms_key_id,
        documents_root=folder / "documents",
        keystore_root=folder / "keystore",
        archives_root=folder / "audit-archives",
    )


def locations() -> dict[str, Location]:
    """Every configured location by name, the default first."""
    configured = _configured()
    found = {DEFAULT_LOCATION: _default_location(configured.get(DEFAULT_LOCATION, {}))}
    for name, entry in configured.items():
        if name != DEFAULT_LOCATION and LOCATION_NAME.match(name):
            found[name] = _other_location(name, entry)
    return found


def location(name: str) -> Location:
    """The location ``name``; UnknownLocation when it is not configured."""
    found = locations().get(name)
    if found is None:
        raise UnknownLocation(f"no storage location named {name!r} is configured")
    return found


def location_choices() -> list[tuple[str, str]]:
    """(name, label) of every location, for a select."""
    return [(where.name, where.label) for where in locations().values()]


def validate_location(name: str) -> None:
    """Form validator: ``name`` must be a configured location."""
    if name not in locations():
        raise ValidationError(
            "%(name)s is not a storage location of this deployment.",
            code="unknown_location",
            params={"name": name},
        )


def location_of(agency_id: int | None) -> str:
    """The location of the agency's blobs (the platform's own, agency None: the default).

    Read from the row each time (a primary-key lookup): a location changes only while the
    agency has no blob at all, and a cached answer must never send a blob elsewhere. The
    tenant model is named by ``settings.PORTAL_TENANT_MODEL`` (vault imports no app)."""
    if agency_id is None:
        return DEFAULT_LOCATION
    from django.apps import apps

    tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
    found = (
        tenant_model._default_manager.filter(pk=agency_id)
        .values_list("storage_location", flat=True)
        .first()
    )
    return str(found) if found else DEFAULT_LOCATION


def _s3(bucket: str, prefix: str, where: Location) -> S3BlobStore:
    return build_s3(
        bucket,
        prefix,
        region=where.region,
        endpoint_url=where.endpoint_url,
        sse=where.sse,
        kms_key_id=where.kms_key_id,
    )


def documents_store(name: str) -> BlobStore:
    """The store of document ciphertext (and residents' exports) of location ``name``."""
    where = location(name)
    if where.bucket:
        return _s3(where.bucket, "documents/", where)
    return build_local(str(where.documents_root))


def key_store(name: str) -> BlobStore:
    """The store of the agencies' escrow keys of location ``name``: kept apart from the
    database (and its backups), so deleting an agency's escrow key makes every copy of its
    documents' keys unusable (crypto-shredding). In production: a bucket without versioning."""
    where = location(name)
    if where.key_bucket:
        return _s3(where.key_bucket, "keystore/", where)
    return build_local(str(where.keystore_root))


def archive_store(name: str) -> BlobStore:
    """The store of the audit log's encrypted monthly archives (audit/retention.py) of
    location ``name``: its documents bucket under its own prefix, or a folder beside its
    local documents."""
    where = location(name)
    if where.bucket:
        return _s3(where.bucket, "audit-archives/", where)
    return build_local(str(where.archives_root))


def _holds(store: BlobStore, prefix: str) -> bool:
    if isinstance(store, S3BlobStore):
        key = store.prefix + prefix
        page = store._call(store.client.list_objects_v2, Bucket=store.bucket, Prefix=key, MaxKeys=1)
        uploads = store._call(
            store.client.list_multipart_uploads, Bucket=store.bucket, Prefix=key, MaxUploads=1
        )
        return bool(page.get("Contents") or uploads.get("Uploads"))
    return isinstance(store, LocalBlobStore) and bool(store.names(prefix))


def agency_has_blobs(name: str, agency_id: int) -> bool:
    """Whether location ``name`` holds anything of the agency: a document, an unfinished
    upload, an escrow key or an audit archive (every such name starts ``agency-<id>/``)."""
    prefix = f"agency-{agency_id}/"
    return any(
        _holds(store, prefix)
        for store in (key_store(name), documents_store(name), archive_store(name))
    )
