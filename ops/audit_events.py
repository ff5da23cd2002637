"""Audit event types of the platform's operations (ops: the self-scan, the status page's
incidents), and the titles of its pages."""

from collections.abc import Mapping
from typing import Any

from audit.registry import category, register, register_page_titles

OPERATIONS = category("operations", "Operations", 96)
STATUS = category("status", "Service status", 97)


def _scanned(ctx: Mapping[str, Any]) -> str:
    return (
        f"Self-scan {ctx.get('run')} ran ({ctx.get('trigger')}): {ctx.get('status')}. "
        f"Checks: {ctx.get('summary')}"
    )


def _requested(ctx: Mapping[str, Any]) -> str:
    return f"{ctx['actor']} asked for a self-scan now"


SELF_SCAN_RUN = register("ops.self_scan_run", _scanned, label="Self-scan ran", category=OPERATIONS)
SELF_SCAN_REQUESTED = register(
    "ops.self_scan_requested", _requested, label="Self-scan requested", category=OPERATIONS
)

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
        "ops:scan_runs": "the self-scan reports",
        "ops:scan_run": "self-scan report {run_id}",
        "ops:scan_run_now": "the form to run a self-scan",
        "healthz_deep": "the deep health check",
        "status": "the status page",
        "status_incidents": "the status incidents",
        "status_incident_resolve": "resolve status incident {incident_id}",
    }
)
