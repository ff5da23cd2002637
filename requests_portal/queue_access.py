"""The staff queue's read: the requests a member of staff may see, narrowed by the queue's
filter form, with the summary counts above it (the web queue and the API's staff list).
Built on the request access helpers (requests_portal/access.py), which scope every read to
the user and agency."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from accounts.models import Agency, User
from requests_portal import access
from requests_portal.filters import common_filters, has_common_filters
from requests_portal.models import RecordsRequest, Status
from requests_portal.search import search

QUEUE_SORTS = {"newest": ["-created_at"], "oldest": ["created_at"]}
QUEUE_STATUSES = (Status.SUBMITTED, Status.OPEN, Status.PAUSED, Status.CLOSED)


@dataclass(frozen=True)
class StaffQueue:
    requests: QuerySet[RecordsRequest]  # filtered and ordered, with their points of contact
    counts: dict[str, int]  # of the requests not closed: open, overdue, submitted, paused
    unfiltered: bool  # the default view: exactly the requests counts["open"] counts


def staff_queue_for(
    user: User | AnonymousUser,
    agency: Agency,
    filters: dict[str, Any],
    *,
    today: datetime.date,
    with_counts: bool = True,
) -> StaffQueue:
    """The staff queue: the requests the user may see, narrowed by the queue's filter form
    (``filters``: its cleaned data, empty when invalid), and the summary counts (empty
    without ``with_counts``: they read every open request, which the API does not show)."""
    visible = access.staff_requests_for(user, agency)
    # Every summary count is about requests not closed: count only those rows. Counting
    # "status" (not "pk") lets PostgreSQL answer from the request_queue index alone.
    counts = (
        {}
        if not with_counts
        else visible.exclude(status=Status.CLOSED).aggregate(
            open=Count("status"),
            overdue=Count(
                "status",
                filter=Q(due_date__lt=today) & Q(status__in=[Status.SUBMITTED, Status.OPEN]),
            ),
            submitted=Count("status", filter=Q(status=Status.SUBMITTED)),
            paused=Count("status", filter=Q(status=Status.PAUSED)),
        )
    )
    queue = visible
    scope = filters.get("scope") or "all"
    if not user.is_authenticated:
        pass  # no membership, so `visible` is empty; and no request is an anonymous user's
    elif scope == "mine":
        queue = queue.filter(point_of_contact=user)
    elif scope == "departments":
        queue = queue.filter(pk__in=access.my_department_request_ids(user, agency))
    status = filters.get("status") or ""
    if status == "overdue":
        queue = queue.filter(due_date__lt=today, status__in=[Status.SUBMITTED, Status.OPEN])
    elif status in QUEUE_STATUSES:
        queue = queue.filter(status=status)
    elif status != "any":
        queue = queue.exclude(status=Status.CLOSED)
    queue = common_filters(queue, filters)
    query = (filters.get("q") or "").strip()
    if query:
        queue = search(queue, query)
    else:
        order = QUEUE_SORTS.get(filters.get("sort") or "due", ["due_date", "created_at"])
        queue = queue.order_by(*order)
    return StaffQueue(
        requests=queue.select_related("point_of_contact"),
        counts=counts,
        unfiltered=scope == "all" and not status and not query and not has_common_filters(filters),
    )
