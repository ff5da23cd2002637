"""Audit event types of the documents app."""

from audit.registry import register

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
