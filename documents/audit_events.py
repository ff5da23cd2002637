"""Audit event types of the documents app, and how a documents event is recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import audit
from audit.registry import EventType, register

if TYPE_CHECKING:
    from django.http import HttpRequest

    from audit.models import AuditEvent
    from documents.models import Document

UPLOADED = register("document.uploaded", "{actor} uploaded {filename}")
UPLOAD_REFUSED = register(
    "document.upload_refused", "An upload of {filename} was refused: {reason}"
)
SCANNED = register("document.scanned", "{filename} was scanned: {outcome}")
FINDING_RESOLVED = register("document.finding_resolved", "{actor} resolved a finding in {filename}")
RELEASED = register("document.released", "{actor} set {filename} to {level}")
RELEASE_OVERRIDE = register(
    "document.release_override",
    "{actor} released {filename} to the public with unresolved findings: {reason}",
)
REDACTION_ADDED = register(
    "document.redaction_added", "{actor} marked {count} redaction(s) in {filename}"
)
REDACTION_REMOVED = register(
    "document.redaction_removed", "{actor} removed a draft redaction in {filename}"
)
REDACTED = register("document.redacted", "{actor} finalised {count} redaction(s) of {filename}")
LINK_ISSUED = register("document.link_issued", "{actor} got a download link for {filename}")
DOWNLOADED = register("document.downloaded", "{actor} downloaded {filename}")
DOWNLOAD_REFUSED = register("document.download_refused", "A download link was refused ({reason})")
DELETED = register("document.deleted", "{actor} deleted {filename}")
KEYS_ROTATED = register(
    "document.keys_rotated", "The agency's document key was rotated (v{version})"
)
KEYS_DESTROYED = register("document.keys_destroyed", "The agency's document keys were destroyed")
SETTINGS_CHANGED = register("document.settings_changed", "{actor} changed the document settings")


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
