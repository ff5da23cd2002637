"""Audit event types of the audit log itself: its seals and its verification (platform
events, in the platform chain)."""

from collections.abc import Mapping
from typing import Any

from audit.registry import category, register

INTEGRITY = category("integrity", "Audit log integrity", 95)


def _sealed(ctx: Mapping[str, Any]) -> str:
    text = f"Audit chains sealed: {ctx.get('sealed', 0)} new seal(s)"
    text += f", {ctx.get('unchanged', 0)} chain(s) unchanged"
    if ctx.get("failed"):
        text += f", {ctx['failed']} not written (the seal store failed; retried)"
    if ctx.get("problems"):
        text += f", {len(ctx['problems'])} chain(s) not sealed because they no longer match"
    return text


CHAINS_SEALED = register(
    "audit.chains_sealed", _sealed, label="Audit chains sealed", category=INTEGRITY
)
CHAINS_VERIFIED = register(
    "audit.chains_verified",
    "Audit log verified: {chains} chain(s), {events} event(s), {seals} seal(s), all intact",
    label="Audit log verified",
    category=INTEGRITY,
)
VERIFY_FAILED = register(
    "audit.verify_failed",
    "Audit log verification FAILED: {chains} chain(s) checked; the operators were alerted",
    label="Audit log verification failed",
    category=INTEGRITY,
)
