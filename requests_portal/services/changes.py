"""What every change to one request shares: the row lock taken first, the open-state check,
the timeline entry, the first-response mark, and the error an action that does not apply
raises (its message is shown to the user)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from django.db import transaction
from django.utils import translation

from accounts.local_time import format_date
from accounts.models import User
from requests_portal.models import RecordsRequest, TimelineEvent

P = ParamSpec("P")
R = TypeVar("R")


class RequestStateError(Exception):
    """The action does not apply to the request in its current state (shown to the user)."""


def human_date(day: datetime.date) -> str:
    """A date as people write it, for text that is stored (timeline entries): November 3,
    2026, in English whatever the language of the page that caused it."""
    with translation.override("en"):
        return format_date(day, "F j, Y")


def add_timeline_event(
    records_request: RecordsRequest,
    kind: str,
    actor: User | None,
    summary: str,
    *,
    public: bool,
    data: dict[str, object] | None = None,
    at: datetime.datetime | None = None,
) -> TimelineEvent:
    """A line of the request's timeline, stamped now (or ``at``, the moment it happened)."""
    stamp = {"created_at": at} if at is not None else {}
    return TimelineEvent.objects.create(
        agency=records_request.agency,
        request=records_request,
        kind=kind,
        actor=actor,
        is_public=public,
        summary=summary[:300],
        data=data or {},
        **stamp,
    )


def mark_responded(records_request: RecordsRequest, when: datetime.datetime) -> None:
    """Remember the agency's first response (reports measure time to it)."""
    if records_request.first_response_at is None:
        records_request.first_response_at = when
        records_request.save(update_fields=["first_response_at", "updated_at"])


def _lock(records_request: RecordsRequest) -> None:
    """Re-read the request under a row lock before changing it: two actions on one request
    run one after the other and each checks the state the other left. Every writer takes
    the request row before the audit chain's lock, so they never deadlock."""
    records_request.refresh_from_db(
        from_queryset=RecordsRequest.objects.select_for_update().filter(
            agency=records_request.agency_id
        )
    )


def locked(service: Callable[P, R]) -> Callable[P, R]:
    """Run a service on one request inside a transaction that first locks the request's row,
    so its state checks see the latest state (a close and a pause cannot interleave). The
    service keeps its signature: every locked service takes ``records_request=`` (keyword-only).
    """

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        # P cannot say "has a records_request keyword"; every decorated service has one.
        records_request = cast(RecordsRequest, kwargs["records_request"])
        with transaction.atomic():
            _lock(records_request)
            return service(*args, **kwargs)

    return wrapper


def require_open(records_request: RecordsRequest, action: str) -> None:
    if records_request.is_closed:
        raise RequestStateError(f"A closed request cannot be {action}. Reopen it first.")
