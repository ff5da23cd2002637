"""Tenant-scoped reads of requests_portal data. Views reach these rows only through here;
another agency's object, or one the user may not see, answers 404, the same as a missing one.

Who sees a request (design.md, "Requests"):
- staff: admins everything; others the published, embargoed and all-staff requests, the
  department requests of their departments, and restricted requests they are the point of
  contact for (department admins: also restricted requests of their departments);
- the requester: their own requests (signed in, or through the tracking link);
- the public: published requests, and embargoed ones once closed for the agency's embargo days,
  except those held for staff to review personal data in their description.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import policy
from accounts.models import Agency, Membership, Role, User
from requests_portal.models import (
    ClosureReason,
    CustomField,
    Department,
    DepartmentMember,
    Holiday,
    Message,
    NotificationPreference,
    RecordsRequest,
    RequestDepartment,
    RequestType,
    ResponseTemplate,
    Tag,
    Task,
    TimeEntry,
    TimelineEvent,
    Visibility,
)
from requests_portal.tracking import request_id_from_tracking_token

NUMBER = re.compile(r"(\d{2})-(\d{1,9})")


def departments_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[Department]:
    if not policy.can(user, agency, policy.DEPARTMENTS_VIEW):
        return Department.objects.none()
    return Department.objects.filter(agency=agency).order_by("name")


def get_department_for(
    user: User | AnonymousUser, agency: Agency, department_id: int
) -> Department:
    department = departments_for(user, agency).filter(pk=department_id).first()
    if department is None:
        raise Http404
    return department


def department_members_for(
    user: User | AnonymousUser, agency: Agency, department: Department
) -> QuerySet[DepartmentMember]:
    if department.agency_id != agency.pk or not policy.can(user, agency, policy.DEPARTMENTS_VIEW):
        return DepartmentMember.objects.none()
    return (
        DepartmentMember.objects.filter(agency=agency, department=department)
        .select_related("user")
        .order_by("user__email")
    )


def closure_reasons_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[ClosureReason]:
    if not policy.can(user, agency, policy.REQUEST_CLOSE):
        return ClosureReason.objects.none()
    return ClosureReason.objects.filter(agency=agency, is_active=True).order_by("name")


def _active_staff(agency: Agency, asking: User | AnonymousUser) -> list[User]:
    """The agency's active staff, read once per request: the list is kept on the asking
    user's object (which lives as long as the request) beside their membership cache."""
    memo = asking.__dict__.setdefault("_active_staff_cache", {})
    if agency.pk not in memo:
        memo[agency.pk] = _read_active_staff(agency)
    return list(memo[agency.pk])


def _read_active_staff(agency: Agency) -> list[User]:
    staff = []
    for membership in (
        Membership.objects.filter(agency=agency, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    ):
        # The membership came with its user: asking about their role later (which requests
        # they may see) costs no query per person.
        policy.remember_membership(membership.user, agency, membership)
        staff.append(membership.user)
    return staff


def assignable_staff(user: User | AnonymousUser, agency: Agency) -> list[User]:
    """The agency's staff, for choosing a request's point of contact."""
    return _active_staff(agency, user) if policy.can(user, agency, policy.REQUEST_EDIT) else []


def department_name_taken(agency: Agency, name: str, except_for: Department | None) -> bool:
    taken = Department.objects.filter(agency=agency, name__iexact=name)
    if except_for is not None:
        taken = taken.exclude(pk=except_for.pk)
    return taken.exists()


def holidays_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[Holiday]:
    if not policy.can(user, agency, policy.DEADLINE_RULES_MANAGE):
        return Holiday.objects.none()
    return Holiday.objects.filter(agency=agency).order_by("date")


def get_holiday_for(user: User | AnonymousUser, agency: Agency, holiday_id: int) -> Holiday:
    holiday = holidays_for(user, agency).filter(pk=holiday_id).first()
    if holiday is None:
        raise Http404
    return holiday


def all_closure_reasons_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[ClosureReason]:
    if not policy.can(user, agency, policy.AGENCY_SETTINGS):
        return ClosureReason.objects.none()
    return ClosureReason.objects.filter(agency=agency).order_by("name")


def get_closure_reason_for(
    user: User | AnonymousUser, agency: Agency, reason_id: int
) -> ClosureReason:
    reason = all_closure_reasons_for(user, agency).filter(pk=reason_id).first()
    if reason is None:
        raise Http404
    return reason


def active_request_types(agency: Agency) -> QuerySet[RequestType]:
    return RequestType.objects.filter(agency=agency, is_active=True).order_by("name")


def active_custom_fields(agency: Agency) -> list[CustomField]:
    return list(CustomField.objects.filter(agency=agency, is_active=True).order_by("order", "pk"))


def templates_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[ResponseTemplate]:
    if not policy.can(user, agency, policy.STAFF_AREA):
        return ResponseTemplate.objects.none()
    return ResponseTemplate.objects.filter(agency=agency).order_by("kind", "name")


def get_template_for(
    user: User | AnonymousUser, agency: Agency, template_id: str | None
) -> ResponseTemplate | None:
    """The template, or None for a missing or foreign id (it only prefills a form)."""
    if template_id is None:
        return None
    try:
        pk = int(template_id)
    except ValueError:
        return None
    return templates_for(user, agency).filter(pk=pk).first()


def all_request_types_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[RequestType]:
    if not policy.can(user, agency, policy.DEADLINE_RULES_MANAGE):
        return RequestType.objects.none()
    return RequestType.objects.filter(agency=agency).order_by("name")


def get_request_type_for(user: User | AnonymousUser, agency: Agency, type_id: int) -> RequestType:
    found = all_request_types_for(user, agency).filter(pk=type_id).first()
    if found is None:
        raise Http404
    return found


def all_custom_fields_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[CustomField]:
    if not policy.can(user, agency, policy.AGENCY_SETTINGS):
        return CustomField.objects.none()
    return CustomField.objects.filter(agency=agency).order_by("order", "pk")


def get_custom_field_for(user: User | AnonymousUser, agency: Agency, field_id: int) -> CustomField:
    found = all_custom_fields_for(user, agency).filter(pk=field_id).first()
    if found is None:
        raise Http404
    return found


def managed_templates_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[ResponseTemplate]:
    if not policy.can(user, agency, policy.TEMPLATES_MANAGE):
        return ResponseTemplate.objects.none()
    return ResponseTemplate.objects.filter(agency=agency).order_by("kind", "name")


def get_managed_template_for(
    user: User | AnonymousUser, agency: Agency, template_id: int
) -> ResponseTemplate:
    found = managed_templates_for(user, agency).filter(pk=template_id).first()
    if found is None:
        raise Http404
    return found


def request_tasks(records_request: RecordsRequest) -> QuerySet[Task]:
    return Task.objects.filter(
        agency=records_request.agency, request=records_request
    ).select_related("assignee")


def get_task_for(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest, task_id: int
) -> Task:
    task = request_tasks(records_request).filter(pk=task_id).first()
    if task is None or records_request.agency_id != agency.pk:
        raise Http404
    return task


def request_tag_names(records_request: RecordsRequest) -> list[str]:
    return list(
        Tag.objects.filter(
            agency=records_request.agency, requesttag__request=records_request
        ).values_list("name", flat=True)
    )


def request_time_entries(records_request: RecordsRequest) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(
        agency=records_request.agency, request=records_request
    ).select_related("user")


def get_time_entry_for(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest, entry_id: int
) -> TimeEntry:
    entry = request_time_entries(records_request).filter(pk=entry_id).first()
    if entry is None or records_request.agency_id != agency.pk:
        raise Http404
    return entry


def assignable_staff_for_tasks(user: User | AnonymousUser, agency: Agency) -> list[User]:
    """Anyone on staff may be given a task by anyone who does internal work."""
    allowed = policy.can(user, agency, policy.REQUEST_INTERNAL_WORK)
    return _active_staff(agency, user) if allowed else []


def public_departments(agency: Agency) -> QuerySet[Department]:
    """Department names for the public form's picker and archive filter."""
    return Department.objects.filter(agency=agency).order_by("name")


# --- Requests ------------------------------------------------------------------------------


def my_department_request_ids(user: User, agency: Agency) -> QuerySet[RequestDepartment, int]:
    my_departments = DepartmentMember.objects.filter(agency=agency, user=user).values_list(
        "department_id", flat=True
    )
    return RequestDepartment.objects.filter(
        agency=agency, department_id__in=my_departments
    ).values_list("request_id", flat=True)


# What every staff member sees, whatever their departments (used by staff_page_access too).
STAFF_WIDE = (Visibility.PUBLISHED, Visibility.EMBARGOED, Visibility.ALL_STAFF)


def _staff_filter(user: User, agency: Agency, role: str) -> Q:
    if role == Role.ADMIN:
        return Q()
    mine = Q(pk__in=my_department_request_ids(user, agency))
    visible = (
        Q(visibility__in=STAFF_WIDE)
        | (Q(visibility=Visibility.DEPARTMENT) & mine)
        | Q(point_of_contact=user)
    )
    if role == Role.DEPARTMENT_ADMIN:
        visible |= Q(visibility=Visibility.RESTRICTED) & mine
    return visible


def sees_whatever_departments(role: str, user_id: int, records_request: RecordsRequest) -> bool:
    """Whether ``_staff_filter`` lets a staff member with ``role`` see ``records_request``
    without asking about departments: an admin, a request open to all staff, its point of
    contact. The Python form of the filter's department-free branches, kept beside it (and
    checked against it in tests/requests_portal/test_staff_page.py); False means the
    database must decide (``staff_who_can_see``). ``records_request`` must be current."""
    return (
        role == Role.ADMIN
        or records_request.visibility in STAFF_WIDE
        or records_request.point_of_contact_id == user_id
    )


def staff_requests_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[RecordsRequest]:
    membership = policy.membership_for(user, agency)
    # membership_for finds none for an anonymous user; is_authenticated tells mypy so.
    if (
        membership is None
        or not user.is_authenticated
        or not policy.role_has(membership.role, policy.STAFF_AREA)
    ):
        return RecordsRequest.objects.none()
    return RecordsRequest.objects.filter(agency=agency).filter(
        _staff_filter(user, agency, membership.role)
    )


def staff_who_can_see(records_request: RecordsRequest, users: list[User]) -> list[User]:
    """The users among ``users`` whose role lets them open this request (notices, notes and
    the notify list never reach staff the request is hidden from)."""
    agency = records_request.agency
    if not users:
        return []
    # One query however many staff: an EXISTS per person, each the very filter of
    # staff_requests_for, so the answer is the one their own queue would give.
    sees = {
        f"sees_{n}": Exists(staff_requests_for(user, agency).filter(pk=OuterRef("pk")))
        for n, user in enumerate(users)
    }
    row = (
        RecordsRequest.objects.filter(agency=agency, pk=records_request.pk)
        .annotate(**sees)
        .values_list(*sees)
        .first()
    )
    if row is None:
        return []
    return [user for user, seen in zip(users, row, strict=True) if seen]


def public_requests(agency: Agency) -> QuerySet[RecordsRequest]:
    """What the public reads: published requests, embargoed ones past their embargo; never
    one held for staff to review the personal data in its description."""
    return RecordsRequest.objects.filter(agency=agency, description_held=False).filter(
        Q(visibility=Visibility.PUBLISHED)
        | Q(visibility=Visibility.EMBARGOED, public_from__lte=timezone.now())
    )


def requester_requests_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[RecordsRequest]:
    if user is None or not user.is_authenticated:
        return RecordsRequest.objects.none()
    return RecordsRequest.objects.filter(agency=agency, requester=user)


def _by_number(
    queryset: QuerySet[RecordsRequest], number: str, agency: Agency
) -> RecordsRequest | None:
    """The request of ``agency`` numbered ``number`` in ``queryset`` (already limited to the
    agency), or None. Its ``agency`` is the caller's row: no second query for it."""
    match = NUMBER.fullmatch(number or "")
    if match is None:
        return None
    year, sequence = 2000 + int(match.group(1)), int(match.group(2))
    found = queryset.filter(agency=agency, year=year, sequence=sequence).first()
    if found is not None:
        found.agency = agency
    return found


def get_request_for_staff(
    user: User | AnonymousUser, agency: Agency, number: str
) -> RecordsRequest:
    related = ("point_of_contact", "closure_reason", "request_type")  # the page shows them
    found = _by_number(staff_requests_for(user, agency).select_related(*related), number, agency)
    if found is None:
        raise Http404
    return found


class Viewer(enum.StrEnum):
    REQUESTER = "requester"
    PUBLIC = "public"


@dataclass(frozen=True)
class PublicView:
    request: RecordsRequest
    viewer: Viewer
    tracking: str = ""


def get_request_for_resident(
    user: User | AnonymousUser, agency: Agency, number: str, tracking: str = ""
) -> PublicView:
    """A request as its requester (signed in, or holding the tracking link) or the public
    sees it. Staff use get_request_for_staff."""
    # The page shows the closing reason and request type: read with the request.
    shown = ("closure_reason", "request_type")
    if getattr(user, "is_authenticated", False):  # a guest owns nothing: no query to build
        own = _by_number(
            requester_requests_for(user, agency).select_related(*shown), number, agency
        )
        if own is not None:
            return PublicView(own, Viewer.REQUESTER)
    if tracking:
        request_id = request_id_from_tracking_token(tracking, agency)
        # A bad or foreign link names no request (filtering on pk=None found none either).
        if request_id is not None:
            tracked = RecordsRequest.objects.filter(agency=agency, pk=request_id).select_related(
                *shown
            )
            found = _by_number(tracked, number, agency)
            if found is not None:
                return PublicView(found, Viewer.REQUESTER, tracking)
    found = _by_number(public_requests(agency).select_related(*shown), number, agency)
    if found is None:
        raise Http404
    return PublicView(found, Viewer.PUBLIC)


def can_act_on(
    user: User | AnonymousUser,
    agency: Agency,
    records_request: RecordsRequest,
    permission: policy.Permission,
) -> bool:
    """Whether the user's role allows ``permission`` on this request. Department admins hold
    the publisher's powers on their own departments' requests only; what every staff member
    may do (internal work) they may do on any request they can see."""
    membership = policy.membership_for(user, agency)
    # membership_for finds none for an anonymous user; is_authenticated tells mypy so.
    if (
        membership is None
        or not user.is_authenticated
        or not policy.role_has(membership.role, permission)
    ):
        return False
    if membership.role == Role.DEPARTMENT_ADMIN and not policy.role_has(Role.STAFF, permission):
        return (
            RecordsRequest.objects.filter(pk=records_request.pk, agency=agency)
            .filter(pk__in=my_department_request_ids(user, agency))
            .exists()
        )
    return True


# --- One request's page ----------------------------------------------------------------------


def _staff_reads(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> bool:
    """Whether a staff member reads this request's inner rows (the caller fetched the request
    through get_request_for_staff; this only refuses a foreign agency or a non-member)."""
    return records_request.agency_id == agency.pk and policy.can(user, agency, policy.STAFF_AREA)


def timeline_for(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest, *, public: bool
) -> QuerySet[TimelineEvent]:
    """The request's timeline, oldest first: its public entries (the resident's page), or
    every entry with its actor (the staff page)."""
    if public:
        return records_request.timeline.filter(
            agency=records_request.agency, is_public=True
        ).order_by("created_at", "id")
    if not _staff_reads(user, agency, records_request):
        return TimelineEvent.objects.none()
    return (
        records_request.timeline.filter(agency=agency)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def messages_for(
    user: User | AnonymousUser,
    agency: Agency,
    records_request: RecordsRequest,
    *,
    viewer: Viewer | None,
) -> QuerySet[Message]:
    """The request's messages with their authors, as ``viewer`` reads them on the resident
    page (the requester: all but internal notes; the public: public notes only), or every
    message for staff (``viewer`` None)."""
    if viewer == Viewer.REQUESTER:
        found = records_request.messages.filter(agency=records_request.agency).exclude(
            kind="internal"
        )
    elif viewer == Viewer.PUBLIC:
        found = records_request.messages.filter(agency=records_request.agency, kind="public_note")
    elif _staff_reads(user, agency, records_request):
        found = records_request.messages.filter(agency=agency)
    else:
        return Message.objects.none()
    return found.select_related("author")


def departments_of(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> QuerySet[Department]:
    """The departments the request is routed to, by name (their names are public)."""
    if records_request.agency_id != agency.pk:
        return Department.objects.none()
    return records_request.departments.filter(agency=agency)


def request_departments_for(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> QuerySet[RequestDepartment]:
    """The request's department links for the staff page: the lead first, then by name."""
    if not _staff_reads(user, agency, records_request):
        return RequestDepartment.objects.none()
    return (
        records_request.requestdepartment_set.filter(agency=agency)
        .select_related("department")
        .order_by("-is_lead", "department__name")
    )


def lead_department_id_for(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> int | None:
    """The id of the request's lead department, or None (the routing form's first choice)."""
    if not _staff_reads(user, agency, records_request):
        return None
    return (
        records_request.requestdepartment_set.filter(agency=agency, is_lead=True)
        .values_list("department", flat=True)
        .first()
    )


# --- Notification preferences ----------------------------------------------------------------


def notification_preferences_for(user: User, agency: Agency) -> NotificationPreference:
    """The user's own email choices in the agency; unsaved defaults when they made none."""
    found = NotificationPreference.objects.filter(agency=agency, user=user).first()
    return found or NotificationPreference(agency=agency, user=user)


def request_names(agency_id: int, request_ids: Iterable[str]) -> dict[str, str]:
    """Request id → "request 26-12", for the agency's audit log."""
    ids = [int(v) for v in request_ids if str(v).isdigit()]
    rows = RecordsRequest.objects.filter(agency_id=agency_id, pk__in=ids).only("year", "sequence")
    return {str(r.pk): f"request {r.number}" for r in rows}
