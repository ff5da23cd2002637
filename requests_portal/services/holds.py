"""Holding a request's records back until something is done (a fee paid). The apps above
(billing) set and lift the hold through here; the documents app refuses releases while it
is set. Each change is on the staff timeline; the caller audits the action that caused it."""

from __future__ import annotations

from accounts.models import User
from requests_portal.models import RecordsRequest
from requests_portal.services.changes import add_timeline_event


def hold_release(*, records_request: RecordsRequest, actor: User | None, reason: str) -> None:
    """Hold every release of the request's records until ``release_unhold`` (call inside the
    caller's transaction, with the request's row locked)."""
    reason = reason.strip()[:200] or "Held"
    if records_request.release_hold == reason:
        return
    records_request.release_hold = reason
    records_request.save(update_fields=["release_hold", "updated_at"])
    add_timeline_event(
        records_request, "release_held", actor, f"Records held: {reason}", public=False
    )


def release_unhold(*, records_request: RecordsRequest, actor: User | None, why: str) -> None:
    if not records_request.release_hold:
        return
    records_request.release_hold = ""
    records_request.save(update_fields=["release_hold", "updated_at"])
    add_timeline_event(
        records_request, "release_unheld", actor, f"Records no longer held: {why}", public=False
    )
