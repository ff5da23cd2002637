"""Audit event types of the audit log itself: its seals and its verification (platform
events, in the platform chain), and its retention (archived months, restores: on the chain
of the agency whose log it is)."""

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

# An agency expunged (ops/expunge.py), on the platform chain: its events, chain head and rows
# are gone on purpose; verify_chains reports its sealed chain as expunged, not as missing.
AGENCY_EXPUNGED = register(
    "audit.agency_expunged",
    "Agency {slug} (id {agency_id}) was expunged with all of its data",
    label="Agency expunged",
    category=INTEGRITY,
)

# Retention (audit/retention.py): a month of this chain was archived and taken offline.
MONTH_ARCHIVED = register(
    "audit.month_archived",
    "The audit log of {month} was archived ({events} events) and taken offline",
    label="Audit log month archived",
    category=INTEGRITY,
)
# An operator restored one of the chain's archived months for an investigation.
ARCHIVE_RESTORED = register(
    "audit.archive_restored",
    "The archived audit log of {month} was restored for an investigation ({events} events)",
    label="Archived audit log restored",
    category=INTEGRITY,
)
# Master-key rotation (reseal_secrets): the platform archives' data keys sealed again with
# the current master key, on the platform chain, in the transaction that rewrote them.
ARCHIVES_RESEALED = register(
    "audit.archives_resealed",
    "The data keys of {count} platform audit archive(s) were sealed with the current master "
    "key ({months})",
    label="Platform audit archives re-sealed",
    category=INTEGRITY,
)
