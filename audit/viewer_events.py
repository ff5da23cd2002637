"""The audit app's own event types and page titles (the viewer's): registered from
apps.py, like every app's audit_events.py."""

from collections.abc import Mapping
from typing import Any

from audit.registry import category, register, register_page_titles

AUDIT_LOG = category("audit", "Audit log", 80)


def _exported(ctx: Mapping[str, Any]) -> str:
    kind = {"csv": "a spreadsheet (CSV)", "jsonl": "a verifiable file (JSON Lines)"}.get(
        str(ctx.get("format", "")), "a file"
    )
    filtered = " (filtered)" if ctx.get("filters") else ""
    return f"{ctx['actor']} downloaded the audit log as {kind}{filtered}"


LOG_EXPORTED = register(
    "audit.log_exported", _exported, label="Downloaded the audit log", category=AUDIT_LOG
)

# config mounts the viewer under the staff pages (config/urls.py)
register_page_titles(
    {
        "staff:audit_log": "the audit log",
        "staff:audit_export": "the audit log download",
        "staff:audit_export_jsonl": "the verifiable audit log download",
        "staff:audit_event": "event {event_id} of the audit log",
        "staff:audit_public_key": "the audit seal public key",
        "staff:audit_verifier": "the audit export verifier",
    }
)
