"""Audit event types of the documents app (label, category and sentence of each), the titles
of its pages for the audit log, and how a documents event is recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import audit
from accounts.audit_events import SETTINGS
from audit.registry import Category, EventType, Sentence, category, register, register_page_titles
from documents.models import ReleaseLevel

if TYPE_CHECKING:
    from django.http import HttpRequest

    from audit.models import AuditEvent
    from documents.models import Document

DOCUMENTS = category("documents", "Documents and releases", 50)
REDACTION = category("redaction", "Redaction", 60)


def _event(code: str, template: Sentence, label: str, group: Category = DOCUMENTS) -> EventType:
    return register(code, template, label=label, category=group)


def _released(ctx: Mapping[str, Any]) -> str:
    if ctx.get("from") == ReleaseLevel.STAFF or "from" not in ctx:
        return f"{ctx['actor']} released {ctx['filename']}: {str(ctx['level']).lower()}"
    return f"{ctx['actor']} changed the release of {ctx['filename']} to “{ctx['level']}”"


def _counted(ctx: Mapping[str, Any], one: str, many: str) -> str:
    count = int(str(ctx["count"]))
    return one if count == 1 else f"{count} {many}"


UPLOADED = _event("document.uploaded", "{actor} uploaded {filename}", "Uploaded a document")
UPLOAD_REFUSED = _event(
    "document.upload_refused",
    "An upload of {filename} was refused: {reason}",
    "Upload refused",
)
SCANNED = _event("document.scanned", "{filename} was {outcome}", "Document scanned")
FINDING_RESOLVED = _event(
    "document.finding_resolved",
    "{actor} resolved a finding in {filename}: {resolution}",
    "Resolved a scan finding",
)
RELEASED = _event("document.released", _released, "Released a document")
RELEASE_OVERRIDE = _event(
    "document.release_override",
    "{actor} released {filename} to the public with unresolved findings: {reason}",
    "Released despite findings",
)
REDACTION_ADDED = _event(
    "document.redaction_added",
    lambda c: f"{c['actor']} marked {_counted(c, 'a redaction', 'redactions')} in {c['filename']}",
    "Marked redactions",
    REDACTION,
)
REDACTION_REMOVED = _event(
    "document.redaction_removed",
    "{actor} removed a marked redaction in {filename}",
    "Removed a marked redaction",
    REDACTION,
)
REDACTED = _event(
    "document.redacted",
    lambda c: (
        f"{c['actor']} applied {_counted(c, 'a redaction', 'redactions')} to "
        f"{c['filename']}, making version {c['version']}"
    ),
    "Applied redactions",
    REDACTION,
)
LINK_ISSUED = _event(
    "document.link_issued", "{actor} got a download link for {filename}", "Got a download link"
)
DOWNLOADED = _event("document.downloaded", "{actor} downloaded {filename}", "Downloaded a document")
DOWNLOAD_REFUSED = _event(
    "document.download_refused", "A download link was refused ({reason})", "Download refused"
)
DELETED = _event("document.deleted", "{actor} deleted {filename}", "Deleted a document")
KEYS_ROTATED = _event(
    "document.keys_rotated",
    "The agency's document key was replaced (version {version})",
    "Document key replaced",
    SETTINGS,
)
KEYS_DESTROYED = _event(
    "document.keys_destroyed",
    "The agency's document keys were destroyed",
    "Document keys destroyed",
    SETTINGS,
)


def _document_settings(ctx: Mapping[str, Any]) -> str:
    if "redaction_reason_added" in ctx:
        return f"{ctx['actor']} added the redaction reason “{ctx['redaction_reason_added']}”"
    if "redaction_reason_retired" in ctx:
        return f"{ctx['actor']} retired the redaction reason “{ctx['redaction_reason_retired']}”"
    if "redaction_reasons_added" in ctx:
        return f"{ctx['actor']} added {ctx['redaction_reasons_added']} usual redaction reasons"
    return f"{ctx['actor']} changed the document settings"


SETTINGS_CHANGED = _event(
    "document.settings_changed", _document_settings, "Changed the document settings", SETTINGS
)

register_page_titles(
    {
        "document_download": "a download link",
        "resident_document_link": "a document of request {number}",
        "resident_document_upload": "the upload page of request {number}",
        "resident_document_upload_start": "an upload to request {number}",
        "resident_document_upload_chunk": "part of an upload to request {number}",
        "resident_document_upload_complete": "the end of an upload to request {number}",
        "resident_document_upload_cancel": "the cancelling of an upload to request {number}",
        "resident_document_upload_status": "the progress of an upload to request {number}",
        "staff:request_documents": "the documents of request {number}",
        "staff:request_documents_release": "the form to release documents of request {number}",
        "staff:document_detail": "a document of request {number}",
        "staff:document_link": "a download of a document of request {number}",
        "staff:document_release": "the release form of a document of request {number}",
        "staff:document_redact": "the redaction page of a document of request {number}",
        "staff:document_redact_finalise": "the form to apply redactions to a document of "
        "request {number}",
        "staff:document_page_image": "a page image of a document of request {number}",
        "staff:redaction_remove": "the form to remove a marked redaction on request {number}",
        "staff:finding_resolve": "the form to resolve a finding on request {number}",
        "staff:document_upload": "the upload page of request {number}",
        "staff:document_upload_start": "an upload to request {number}",
        "staff:document_upload_chunk": "part of an upload to request {number}",
        "staff:document_upload_complete": "the end of an upload to request {number}",
        "staff:document_upload_cancel": "the cancelling of an upload to request {number}",
        "staff:document_upload_status": "the progress of an upload to request {number}",
        "staff:document_settings": "the document settings",
        "staff:redaction_reason_retire": "the form to retire a redaction reason",
    }
)


def record_about(
    event: EventType,
    document: Document,
    *,
    actor: audit.Identified | int | None = None,
    http_request: HttpRequest | None = None,
    **details: object,
) -> AuditEvent:
    """An event about one document: on its agency's chain, always naming the file (what a
    reader of the log recognises), with ``details`` as keywords."""
    return audit.record_for(
        event,
        document,
        actor=actor,
        http_request=http_request,
        filename=document.filename,
        **details,
    )
