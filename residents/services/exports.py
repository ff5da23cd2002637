"""A resident's download of everything the portal holds about them.

Asked for on the account page (``export_request``), built by a task (``export_build``): a
zip of ``data.json`` (the account, memberships, every request they filed in every agency with
what they may read of it, invoices and payments, and their audit events' summaries) plus
their own uploads and the documents released to them, one folder per request. The zip is
sealed with a fresh data key (the stream cipher of ``vault``) into the documents store of the
default storage location; the key is sealed with the master keyring. Data sovereignty: a
document of an agency whose storage location is another never leaves it, so it is not copied
into the zip; ``data.json`` lists it under the agency with the location's name and where to
download it (the request's page on the agency's site). The rows themselves are the
deployment's database, which every location of a deployment shares (docs/operations.md).
Only its owner downloads it, until it expires (``EXPORT_DAYS``); the hourly upkeep deletes
expired ones. Every step is audited on the
platform's chain (the person's requests span agencies).
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import User
from accounts.tenancy import agency_context, agency_origin
from documents.versions import version_read
from residents import access, audit_events, jobs
from residents.models import DataExport, ExportStatus
from vault import crypto, keyring
from vault.locations import DEFAULT_LOCATION, documents_store, location

logger = logging.getLogger(__name__)

EXPORT_DAYS = 7
# Where exports are stored, and whose documents they may hold.
EXPORT_LOCATION = DEFAULT_LOCATION
_COPY = 1024 * 1024


def _aad(export: DataExport) -> bytes:
    return f"records-portal/data-export/v1|export={export.public_id}".encode()


def export_key_aad(export: DataExport) -> str:
    return f"data-export-key:{export.public_id}"


def _platform_event(code: str, *, user: User, details: dict[str, Any]) -> None:
    with agency_context(None, platform=True):
        audit.record(code, agency=None, actor=user, details=details)


def export_request(*, user: User, http_request: HttpRequest) -> DataExport:
    """Ask for a new export (an export still being built is returned instead)."""
    with transaction.atomic():
        running = (
            DataExport.objects.select_for_update()
            .filter(user=user, status__in=[ExportStatus.ASKED, ExportStatus.BUILDING])
            .first()
        )
        if running is not None:
            return running
        export = DataExport.objects.create(user=user)
        audit.record(
            audit_events.EXPORT_ASKED.code,
            http_request=http_request,
            actor=user,
            details={"export": str(export.public_id)},
        )
        jobs.build_export(export_id=export.pk)
    return export


def _progress(export: DataExport, percent: int, status: str = ExportStatus.BUILDING) -> None:
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk).update(status=status, progress=percent)


def _account(user: User) -> dict[str, Any]:
    return {
        "name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "language": user.language,
        "joined": user.date_joined.isoformat(),
    }


def _write_zip(export: DataExport, spool: Any) -> tuple[int, int]:
    """Write the zip into ``spool``; returns (agencies, files)."""
    user = export.user
    data: dict[str, Any] = {
        "generated_at": timezone.now().isoformat(),
        "account": _account(user),
        "agencies": [],
        "platform_activity": access.platform_events(user),
    }
    files = 0
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Each agency's documents are read while its RLS context is open (the generator
        # yields inside it).
        for part in access.agency_parts(user):
            data["agencies"].append(part.data)
            if part.files and part.agency.storage_location != EXPORT_LOCATION:
                part.data["documents_not_included"] = _held_elsewhere(part)
                continue
            for item in part.files:
                with archive.open(item.path, "w", force_zip64=True) as target:
                    for chunk in version_read(item.version):
                        target.write(chunk)
                files += 1
            _progress(export, min(90, 10 + 5 * len(data["agencies"])))
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
    return len(data["agencies"]), files


def _held_elsewhere(part: access.AgencyPart) -> dict[str, Any]:
    """What the zip says of an agency's documents that stay in its own storage location."""
    return {
        "storage_location": location(part.agency.storage_location).label,
        "why": (
            "This agency keeps its documents in its own storage location, so they are not "
            "copied into this download. Download each one from its request's page on the "
            "agency's site, signed in with this account."
        ),
        "site": agency_origin(part.agency),
        "files": [item.path for item in part.files],
    }


def _chunks(spool: Any) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(_COPY):
        yield chunk


def export_build(*, export_id: int) -> None:
    """Build the export (the task ``residents.tasks.build_export``). A failure marks it
    failed, records it, and leaves no blob behind."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status not in (ExportStatus.ASKED, ExportStatus.BUILDING):
        return
    _progress(export, 5)
    name = f"exports/{export.public_id.hex}.zip.enc"
    store = documents_store(EXPORT_LOCATION)
    try:
        with tempfile.TemporaryFile() as spool:
            agencies, files = _write_zip(export, spool)
            data_key = crypto.new_data_key()
            size = store.write(name, crypto.encrypt(data_key, _aad(export), _chunks(spool)))
    except Exception:
        logger.exception("data export %s failed", export.public_id)
        if store.exists(name):
            store.delete(name)
        with transaction.atomic():
            DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED)
            _platform_event(audit_events.EXPORT_FAILED.code, user=export.user, details={})
        return
    now = timezone.now()
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY,
            progress=100,
            storage_name=name,
            sealed_key=keyring.seal(data_key, aad=export_key_aad(export)),
            size=size,
            ready_at=now,
            expires_at=now + timedelta(days=EXPORT_DAYS),
        )
        _platform_event(
            audit_events.EXPORT_BUILT.code,
            user=export.user,
            details={"export": str(export.public_id), "agencies": agencies, "files": files},
        )


def export_open(*, export: DataExport, http_request: HttpRequest) -> Iterator[bytes]:
    """The zip's plaintext for its owner (the view fetched it through access.export_for),
    recorded as downloaded. Raises ValueError when it is not (or no longer) ready."""
    if export.status != ExportStatus.READY or (
        export.expires_at is not None and export.expires_at <= timezone.now()
    ):
        raise ValueError("not ready")
    data_key = keyring.open_sealed(bytes(export.sealed_key), aad=export_key_aad(export))
    with transaction.atomic():
        audit.record(
            audit_events.EXPORT_DOWNLOADED.code,
            http_request=http_request,
            actor=export.user,
            details={"export": str(export.public_id)},
        )
    return crypto.decrypt(
        data_key, _aad(export), documents_store(EXPORT_LOCATION).read(export.storage_name)
    )


def exports_expire() -> int:
    """Delete the ciphertext of every export past its time (hourly upkeep)."""
    store = documents_store(EXPORT_LOCATION)
    count = 0
    for export in access.exports_expired(timezone.now()):
        if export.storage_name and store.exists(export.storage_name):
            store.delete(export.storage_name)
        with transaction.atomic():
            DataExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.EXPIRED, storage_name="", sealed_key=b""
            )
            _platform_event(
                audit_events.EXPORT_EXPIRED.code,
                user=export.user,
                details={"export": str(export.public_id)},
            )
        count += 1
    return count
