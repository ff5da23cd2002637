"""Audit event types of the platform's operations (ops: the self-scan, the status page's
incidents, expunge requests), and the titles of its pages."""

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

# An agency's expunge, asked for by its customer (ops/expunges/). The expunge itself records
# audit.audit_events.AGENCY_EXPUNGED, with the counts, once.
EXPUNGE = category("expunges", "Agency expunges", 98)
EXPUNGE_REQUESTED = register(
    "ops.expunge_requested",
    "{actor} recorded a request to expunge the agency {slug} (expunge request {request})",
    label="Expunge requested",
    category=EXPUNGE,
)
EXPUNGE_APPROVED = register(
    "ops.expunge_approved",
    "{actor} approved expunge request {request} of the agency {slug}",
    label="Expunge approved",
    category=EXPUNGE,
)
EXPUNGE_CANCELLED = register(
    "ops.expunge_cancelled",
    "{actor} cancelled expunge request {request} of the agency {slug}",
    label="Expunge cancelled",
    category=EXPUNGE,
)
EXPUNGE_RERUN = register(
    "ops.expunge_rerun",
    "{actor} sent expunge request {request} of the agency {slug} to run again",
    label="Expunge sent again",
    category=EXPUNGE,
)
EXPUNGE_STARTED = register(
    "ops.expunge_started",
    "The expunge of the agency {slug} started (request {request}, attempt {attempt})",
    label="Expunge started",
    category=EXPUNGE,
)
EXPUNGE_FINISHED = register(
    "ops.expunge_finished",
    "The expunge of the agency {slug} finished (request {request})",
    label="Expunge finished",
    category=EXPUNGE,
)
EXPUNGE_FAILED = register(
    "ops.expunge_failed",
    "The expunge of the agency {slug} failed (request {request}): {error}",
    label="Expunge failed",
    category=EXPUNGE,
)

register_page_titles(
    {
        "ops:scan_runs": "the self-scan reports",
        "ops:scan_run": "self-scan report {run_id}",
        "ops:scan_run_now": "the form to run a self-scan",
        "ops:expunges": "the expunge requests",
        "ops_agencies:list": "the agencies of the platform",
        "ops_agencies:new": "the form to create an agency",
        "ops_agencies:detail": "agency {agency_id}",
        "ops:expunge_new": "the form to request an agency's expunge",
        "ops:expunge": "expunge request {request_id}",
        "ops:expunge_approve": "approve expunge request {request_id}",
        "ops:expunge_cancel": "cancel expunge request {request_id}",
        "ops:expunge_rerun": "run expunge request {request_id} again",
        "healthz_deep": "the deep health check",
        "status": "the status page",
        "status_incidents": "the status incidents",
        "status_incident_resolve": "resolve status incident {incident_id}",
    }
)
