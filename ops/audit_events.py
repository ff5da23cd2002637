"""Audit event types and page titles of the ops app (monitoring, issue 13)."""

from __future__ import annotations

from audit.registry import category, register, register_page_titles

STATUS = category("status", "Service status", 97)

INCIDENT_POSTED = register(
    "status.incident_posted",
    "{actor} posted the status incident “{title}”",
    label="Status incident posted",
    category=STATUS,
)
INCIDENT_RESOLVED = register(
    "status.incident_resolved",
    "{actor} marked the status incident “{title}” resolved",
    label="Status incident resolved",
    category=STATUS,
)

register_page_titles(
    {
        "healthz_deep": "the deep health check",
        "status": "the status page",
        "status_incidents": "the status incidents",
        "status_incident_resolve": "resolve status incident {incident_id}",
    }
)
