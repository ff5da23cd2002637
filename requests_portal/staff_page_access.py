"""Reads of the staff request page that its parts would otherwise each repeat, made once per
page: the colleagues who may see the request (the note's notify list and the task's assignee
list), and the request's department links (shown in the facts, and the routing form's
initial departments and lead).

Each is kept on the request's own object, which lives as long as the web request that read
it (the same memo access._active_staff keeps on the user)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts import policy
from accounts.models import Agency, User
from requests_portal import access
from requests_portal.models import RecordsRequest, RequestDepartment


def colleagues_who_see(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> list[User]:
    """The agency's active staff who may open this request, in the staff list's order (none
    for a user who may not do internal work).

    The caller read ``records_request`` in this web request's transaction
    (access.get_request_for_staff), so its visibility and point of contact are current: an
    admin, anyone when the request is open to all staff, and its point of contact see it by
    the very rule of access._staff_filter (access.sees_whatever_departments), without a
    query; only the others, whose departments decide, are asked of the database
    (access.staff_who_can_see)."""
    memo = records_request.__dict__.setdefault("_colleagues_cache", {})
    if user.pk not in memo:
        staff = access.assignable_staff_for_tasks(user, agency)
        seen: set[int] = set()
        undecided = []
        for person in staff:
            membership = policy.membership_for(person, agency)
            if membership is None or not policy.role_has(membership.role, policy.STAFF_AREA):
                continue  # staff_requests_for gives them nothing
            if access.sees_whatever_departments(membership.role, person.pk, records_request):
                seen.add(person.pk)
            else:
                undecided.append(person)
        seen.update(person.pk for person in access.staff_who_can_see(records_request, undecided))
        memo[user.pk] = [person for person in staff if person.pk in seen]
    return list(memo[user.pk])


def department_links(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> list[RequestDepartment]:
    """The request's department links with their departments, the lead first, then by name
    (access.request_departments_for), read once per page."""
    memo = records_request.__dict__.setdefault("_department_links_cache", {})
    if user.pk not in memo:
        memo[user.pk] = list(access.request_departments_for(user, agency, records_request))
    return memo[user.pk]
