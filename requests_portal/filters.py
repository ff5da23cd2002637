"""What the filter forms of the public archive and the staff queue narrow a list by.

Pure narrowing of a queryset the caller has already scoped (access decides who sees what).
With ``prefix="request__"`` the same filters apply to public search entries, whose request
is one join away.
"""

from __future__ import annotations

from django.db.models import QuerySet

from requests_portal.models import Status


def has_common_filters(data: dict) -> bool:
    return any(data.get(key) for key in ("department", "since", "until"))


def common_filters(queryset: QuerySet, data: dict, prefix: str = "") -> QuerySet:
    """Department and received-between: the filters both lists share."""
    if data.get("department"):
        queryset = queryset.filter(**{f"{prefix}requestdepartment__department": data["department"]})
    if data.get("since"):
        queryset = queryset.filter(**{f"{prefix}day_zero__gte": data["since"]})
    if data.get("until"):
        queryset = queryset.filter(**{f"{prefix}day_zero__lte": data["until"]})
    return queryset


def archive_filters(queryset: QuerySet, data: dict, prefix: str = "") -> QuerySet:
    """The archive's filters: the common ones, and open or closed."""
    queryset = common_filters(queryset, data, prefix)
    if data.get("status") == "closed":
        queryset = queryset.filter(**{f"{prefix}status": Status.CLOSED})
    elif data.get("status") == "open":
        queryset = queryset.exclude(**{f"{prefix}status": Status.CLOSED})
    return queryset
