"""Audit event types of the audit log's own upkeep (retention: archives and restores)."""

from audit.registry import category, register

AUDIT_LOG = category("audit_log", "The audit log", 95)

# Platform chain: the maintenance task moved a month of one chain out of the database.
MONTH_ARCHIVED = register(
    "audit.month_archived",
    "The audit log of {month} was archived ({events} events) and taken offline",
    label="Audit log month archived",
    category=AUDIT_LOG,
)
# The agency's chain: an operator restored one of its archived months for an investigation.
ARCHIVE_RESTORED = register(
    "audit.archive_restored",
    "The archived audit log of {month} was restored for an investigation ({events} events)",
    label="Archived audit log restored",
    category=AUDIT_LOG,
)
