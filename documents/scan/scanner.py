"""The scan of an uploaded document (run by documents.tasks.scan_document in the agency's
row-level-security context).

One pass over the original version's plaintext (documents.versions.version_read, streamed)
computes its SHA-256, feeds clamd when one is configured, and keeps the bytes in memory up
to ``MAX_IN_MEMORY``. Then:

1. malware (documents.scan.malware; documents.scan.clamd): anything found blocks the document
   (status BLOCKED, a malware finding per threat); a file too large to hold is checked by
   its first bytes and by clamd, and an archive or email too large to open can't be checked
   at all (FAILED);
2. personal data (documents.scan.extract + requests_portal.pii): one finding per value and
   location, with a masked excerpt and a keyed digest, never the value; status CLEAN;
3. the outcome is written in one transaction with its audit event (counts per kind, never
   values). Re-scanning replaces the unresolved findings and keeps resolved ones.

Nothing a file contains stops the worker: unreadable files end FAILED with a plain message;
a part of a file that can't be read is a note in ``status_detail``. If clamd is configured
but can't be reached, or storage is down, the document stays QUARANTINED with a clear
status and ``ScanOutcome.retry`` asks the task to try again later.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.tenancy import lock_tenant_row
from documents import audit_events, keys, types, versions
from documents.models import (
    Document,
    DocumentStatus,
    DocumentVersion,
    Finding,
    FindingKind,
    VersionKind,
)
from documents.scan import malware
from documents.scan.clamd import ClamdError, ClamdResult, ClamdStream, ClamdUnavailable
from documents.scan.extract.base import MAX_IN_MEMORY, Unreadable
from documents.scan.extract.extraction import Extraction
from documents.scan.signatures import Threat, check_head
from requests_portal import pii
from vault import crypto
from vault.storage import BlobMissing, StorageError

log = logging.getLogger(__name__)

MAX_FINDINGS = 1_000  # findings stored per document; the audit event counts all
HEAD = 8 * 1024
RETRIES = 6  # scans put off by clamd or storage being unreachable
RETRY_DELAYS = (60, 300, 900, 1800, 3600, 3600)  # seconds

_CONTAINERS = malware.ZIP_BASED | malware.EMAIL_TYPES | malware.OLE_TYPES | {"application/pdf"}


@dataclass
class ScanOutcome:
    status: str
    detail: str = ""
    retry: bool = False  # clamd or storage was unreachable: scan again later
    counts: dict[str, int] = field(default_factory=dict)
    pii_checked: bool = False  # the whole file was read for personal data


@dataclass(frozen=True)
class _Found:
    kind: str
    location: str
    excerpt: str
    digest: str
    page: int | None = None


@dataclass
class _Read:
    head: bytes
    data: bytes | None  # None above MAX_IN_MEMORY
    sha256: str
    size: int
    clamd: ClamdResult | None = None
    clamd_problem: str = ""


def retry_delay(attempt: int) -> int:
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]


# --- Reading --------------------------------------------------------------------------------


def _clamd_timeout() -> float:
    return float(getattr(settings, "CLAMD_TIMEOUT", 120))


def _read(version: DocumentVersion) -> _Read:
    """One pass over the plaintext: digest, clamd, head, and the bytes when small enough."""
    address = settings.CLAMD_ADDRESS
    problem = ""
    stream = None
    if address:
        try:
            stream = ClamdStream(address, timeout=_clamd_timeout())
        except ClamdUnavailable:
            problem = "The malware scanner (ClamAV) could not be reached."
    digest = hashlib.sha256()
    head = bytearray()
    buffer: bytearray | None = bytearray()
    size = 0
    result = None
    try:
        for chunk in versions.version_read(version):
            digest.update(chunk)
            size += len(chunk)
            if len(head) < HEAD:
                head += chunk[: HEAD - len(head)]
            if buffer is not None:
                if size <= MAX_IN_MEMORY:
                    buffer += chunk
                else:
                    buffer = None
            if stream is not None:
                try:
                    stream.send(chunk)
                except ClamdUnavailable:
                    problem = "The malware scanner (ClamAV) stopped answering."
                    stream = None
        if stream is not None:
            try:
                result = stream.finish()
            except ClamdUnavailable:
                problem = "The malware scanner (ClamAV) did not answer in time."
            except ClamdError as error:
                said = str(error).rstrip(".")  # clamd's own messages end with a full stop
                problem = f"The malware scanner (ClamAV) refused the file: {said}."
            stream = None
    finally:
        if stream is not None:
            stream.close()
    data = bytes(buffer) if buffer is not None else None
    del buffer
    return _Read(bytes(head), data, digest.hexdigest(), size, result, problem)


# --- Checks ---------------------------------------------------------------------------------


def _safe(text: str, limit: int) -> str:
    """Text that may quote a file's names (locations, notes) with any personal data in it
    masked, shortened to ``limit`` characters."""
    for found in reversed(pii.find(text)):
        text = text[: found.start] + found.excerpt + text[found.end :]
    if len(text) > limit:
        keep = limit - 1
        text = text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2) :]
    return text


def _malware_findings(threats: list[Threat]) -> list[_Found]:
    return [
        _Found(
            FindingKind.MALWARE,
            _safe(threat.location, 200),
            _safe(threat.description, 200),
            pii.digest(FindingKind.MALWARE, f"{threat.location}|{threat.description}"),
        )
        for threat in threats
    ]


def _personal_data(data: bytes, mime: str, notes: list[str]) -> tuple[list[_Found], Counter]:
    extraction = Extraction()
    found: dict[tuple[str, str, str], _Found] = {}
    counts: Counter = Counter()
    more = False
    try:
        for piece in extraction.pieces(data, mime=mime):
            position, line = 0, piece.first_line  # matches come in order of position
            for match in pii.find(piece.text):
                location = piece.location or "text"
                if piece.by_line:
                    line += piece.text.count("\n", position, match.start)
                    position = match.start
                    location = (
                        f"{piece.location}, line {line}" if piece.location else f"line {line}"
                    )
                key = (match.kind, match.digest, _safe(location, 200))
                if key in found:
                    continue
                counts[match.kind] += 1
                if len(found) < MAX_FINDINGS:
                    found[key] = _Found(match.kind, key[2], match.excerpt, match.digest, piece.page)
                else:
                    more = True
    finally:
        notes.extend(extraction.notes)
    if more:
        notes.append(f"Only the first {MAX_FINDINGS:,} findings are listed; there are more.")
    return list(found.values()), counts


def _analyse(document: Document, read: _Read) -> tuple[ScanOutcome, list[_Found]]:
    """The outcome for a file read in full (or its head, when too large)."""
    notes: list[str] = []
    detected = types.detect(read.head, filename=document.filename)
    mime = detected.mime if detected is not None else document.content_type
    if read.data is None:
        threats = check_head(read.head)
    else:
        inspection = malware.inspect(read.data, name=document.filename, mime=mime)
        threats = list(inspection.threats)
        notes.extend(inspection.notes)
    if read.clamd is not None and read.clamd.infected:
        threats.insert(0, Threat("file", f"The antivirus scanner found {read.clamd.signature}."))
    if threats:
        more = f" ({len(threats) - 1} more problem(s) listed.)" if len(threats) > 1 else ""
        first = threats[0]
        return (
            ScanOutcome(
                DocumentStatus.BLOCKED,
                f"Blocked: {first.description}{more}",
                counts={FindingKind.MALWARE: len(threats)},
            ),
            _malware_findings(threats),
        )
    if read.clamd_problem:
        waiting = (
            f"{read.clamd_problem} The file stays quarantined until it is scanned; "
            "the scan will be tried again."
        )
    else:
        waiting = ""
    if detected is None:
        return ScanOutcome(
            DocumentStatus.QUARANTINED if waiting else DocumentStatus.FAILED,
            waiting or "This is not a type of file the portal accepts.",
            retry=bool(waiting),
        ), []
    if read.data is None:
        if mime in _CONTAINERS:
            return ScanOutcome(
                DocumentStatus.QUARANTINED if waiting else DocumentStatus.FAILED,
                waiting
                or f"This file is larger than {MAX_IN_MEMORY // (1024 * 1024)} MB, too large to "
                "open and check what it contains.",
                retry=bool(waiting),
            ), []
        notes.append(
            f"Larger than {MAX_IN_MEMORY // (1024 * 1024)} MB: not checked for personal data."
        )
        findings, counts = [], Counter()
    else:
        try:
            findings, counts = _personal_data(read.data, mime, notes)
        except Unreadable as error:
            return ScanOutcome(
                DocumentStatus.QUARANTINED if waiting else DocumentStatus.FAILED,
                waiting or str(error),
                retry=bool(waiting),
            ), []
    detail = " ".join([waiting, *notes]).strip()
    return ScanOutcome(
        DocumentStatus.QUARANTINED if waiting else DocumentStatus.CLEAN,
        detail,
        retry=bool(waiting),
        counts=dict(counts),
        # Any note means something was skipped (too large, unreadable part, audio/video).
        pii_checked=read.data is not None and not notes,
    ), findings


# --- The scan -------------------------------------------------------------------------------


def scan(agency_id: int, document_id: int) -> ScanOutcome | None:
    """Scan a document's original version and record the outcome. Returns None when there
    is no such document (deleted since, or another agency's)."""
    document = Document.objects.filter(agency=agency_id, pk=document_id).first()
    if document is None:
        return None
    version = (
        DocumentVersion.objects.filter(
            agency=document.agency_id, document=document, kind=VersionKind.ORIGINAL
        )
        .select_related("document")
        .first()
    )
    findings: list[_Found] = []
    if version is None:
        outcome = ScanOutcome(DocumentStatus.FAILED, "The document has no stored file.")
    else:
        outcome, findings = _scan_version(document, version)
    _record(document, version, outcome, findings)
    return outcome


def _scan_version(document: Document, version: DocumentVersion):
    try:
        read = _read(version)
    except crypto.DecryptionError:
        return ScanOutcome(
            DocumentStatus.FAILED,
            "The stored file is damaged or was changed, so it can't be read. Upload it again.",
        ), []
    except keys.KeyUnavailable:
        return ScanOutcome(
            DocumentStatus.FAILED,
            "The agency's document keys are no longer available, so this file can't be read.",
        ), []
    except BlobMissing:
        return ScanOutcome(
            DocumentStatus.FAILED, "The stored file is missing. Upload it again."
        ), []
    except StorageError:
        return ScanOutcome(
            DocumentStatus.QUARANTINED,
            "The file store could not be reached. The file stays quarantined; the scan will "
            "be tried again.",
            retry=True,
        ), []
    if version.sha256 and version.sha256 != read.sha256:
        return ScanOutcome(
            DocumentStatus.FAILED,
            "The stored file doesn't match the checksum recorded when it was uploaded.",
        ), []
    if not version.sha256:
        version.sha256 = read.sha256
        version.save(update_fields=["sha256"])
    try:
        return _analyse(document, read)
    except SoftTimeLimitExceeded:
        return ScanOutcome(
            DocumentStatus.FAILED,
            "Checking this file took too long, so it could not be checked. Convert it to PDF "
            "and upload it again.",
        ), []
    except Exception as error:  # noqa: BLE001 (nothing a file does may stop the worker)
        log.warning("scan of document %s failed: %s", document.pk, type(error).__name__)
        return ScanOutcome(
            DocumentStatus.FAILED,
            f"The scanner could not read this file ({type(error).__name__}).",
        ), []


_OUTCOMES = {
    DocumentStatus.CLEAN: "scanned",
    DocumentStatus.BLOCKED: "blocked by the malware scan",
    DocumentStatus.FAILED: "could not be read",
    DocumentStatus.QUARANTINED: "not finished, will be tried again",
}


def _record(
    document: Document,
    version: DocumentVersion | None,
    outcome: ScanOutcome,
    findings: list[_Found],
) -> None:
    """Write the outcome: status, findings (unresolved ones replaced, resolved ones kept),
    and the audit event, in one transaction."""
    with transaction.atomic():
        document = lock_tenant_row(document)
        open_findings = Finding.objects.filter(
            agency=document.agency_id, document=document, resolved_at__isnull=True
        )
        resolved = set(
            Finding.objects.filter(
                agency=document.agency_id, document=document, resolved_at__isnull=False
            ).values_list("kind", "value_digest", "location")
        )
        open_findings.delete()
        Finding.objects.bulk_create(
            [
                Finding(
                    agency_id=document.agency_id,
                    document=document,
                    kind=found.kind,
                    location=found.location[:200],
                    excerpt=found.excerpt[:200],
                    value_digest=found.digest,
                    page=found.page,
                )
                for found in findings
                if (found.kind, found.digest, found.location[:200]) not in resolved
            ]
        )
        document.status = outcome.status
        document.status_detail = _safe(outcome.detail, 300)
        document.pii_checked = outcome.pii_checked
        fields = ["status", "status_detail", "pii_checked"]
        if outcome.status != DocumentStatus.QUARANTINED:
            document.scanned_at = timezone.now()
            fields.append("scanned_at")
        document.save(update_fields=fields)
        audit_events.record_about(
            audit_events.SCANNED,
            document,
            outcome=_OUTCOMES[outcome.status],
            status=outcome.status,
            version=version.number if version is not None else None,
            findings={str(kind): count for kind, count in sorted(outcome.counts.items())},
        )
