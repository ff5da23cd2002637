"""Reads of expunge requests, for platform operators only (platform data: no agency)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Agency, AnyUser
from accounts.support.access import is_operator
from ops.models import ExpungeRequest

HISTORY = 200


def _operator(user: AnyUser) -> None:
    if not is_operator(user):
        raise Http404


def expunge_requests(user: AnyUser) -> QuerySet[ExpungeRequest]:
    _operator(user)
    return ExpungeRequest.objects.select_related(
        "requested_by", "approved_by", "cancelled_by"
    ).order_by("-requested_at", "-pk")[:HISTORY]


def get_expunge_request(user: AnyUser, request_id: int) -> ExpungeRequest:
    _operator(user)
    found = (
        ExpungeRequest.objects.select_related("requested_by", "approved_by", "cancelled_by")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def agencies_to_choose(user: AnyUser) -> list[tuple[int, str]]:
    """Every agency there is (an expunged one is gone), for the request form: active ones
    first, then those already deactivated, each by name and slug."""
    _operator(user)
    agencies = Agency.objects.order_by("-is_active", "name", "pk").values_list(
        "pk", "name", "slug", "is_active"
    )
    return [
        (pk, f"{name} ({slug})" if active else f"{name} ({slug}, inactive)")
        for pk, name, slug, active in agencies
    ]
