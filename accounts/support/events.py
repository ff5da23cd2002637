"""Audit event types of support access (accounts.support), and the titles of its pages."""

from collections.abc import Mapping
from typing import Any

from audit.registry import category, register, register_page_titles

SUPPORT = category("support", "Support access", 25)


def _duration(ctx: Mapping[str, Any]) -> str:
    minutes = int(ctx.get("minutes") or 0)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if rest or not hours:
        parts.append(f"{rest} minute" + ("s" if rest != 1 else ""))
    return " ".join(parts)


def _requested(ctx: Mapping[str, Any]) -> str:
    return (
        f"{ctx['actor']} asked for support access for {_duration(ctx)}, role: {ctx['role']}. "
        f"Reason: {ctx['reason']}"
    )


def _emergency(ctx: Mapping[str, Any]) -> str:
    return (
        f"{ctx['actor']} started emergency support access for {_duration(ctx)} without an "
        f"admin's approval, role: {ctx['role']}. Reason: {ctx['reason']}"
    )


def _denied(ctx: Mapping[str, Any]) -> str:
    note = str(ctx.get("note") or "")
    return f"{ctx['actor']} denied {ctx['target']}" + (f". Note: {note}" if note else "")


REQUESTED = register(
    "support.requested", _requested, label="Asked for support access", category=SUPPORT
)
APPROVED = register(
    "support.approved",
    lambda ctx: f"{ctx['actor']} approved {ctx['target']} for {_duration(ctx)}",
    label="Approved support access",
    category=SUPPORT,
)
DENIED = register("support.denied", _denied, label="Denied support access", category=SUPPORT)
EMERGENCY_STARTED = register(
    "support.emergency_started",
    _emergency,
    label="Started emergency support access",
    category=SUPPORT,
)
STARTED = register(
    "support.started",
    "{actor} began using {target}",
    label="Began using support access",
    category=SUPPORT,
)
REVOKED = register(
    "support.revoked", "{actor} revoked {target}", label="Revoked support access", category=SUPPORT
)
ENDED = register(
    "support.ended",
    "{actor} ended {target} before its time",
    label="Ended their support access",
    category=SUPPORT,
)
WITHDRAWN = register(
    "support.withdrawn",
    "{actor} withdrew {target} before an admin answered",
    label="Withdrew a support access request",
    category=SUPPORT,
)
EXPIRED = register(
    "support.expired",
    "{target} ended at its time limit",
    label="Support access expired",
    category=SUPPORT,
)

register_page_titles(
    {
        "accounts:support_request": "the support access page",
        "accounts:support_emergency": "the emergency support access page",
        "accounts:support_end": "the form to end support access",
        "staff:support_access": "the support access page",
        "staff:support_grant": "support access grant {grant_id}",
        "staff:support_grant_approve": "the form to approve support access",
        "staff:support_grant_deny": "the form to deny support access",
        "staff:support_grant_revoke": "the form to revoke support access",
    }
)
