"""The staff request page's actions: one POST view per action, each calling one service.

Most actions share one shape (``_staff_action``): the declared permission, the request
fetched through the access helper (404 for outsiders), the department-admin scope (403),
the action's form validated (the page again with its errors, 400), the service called,
state errors shown as messages, back to the request page. The two that act on one row of
the page (a task, a time entry) are written out below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today
from accounts.once import once_per_form
from requests_portal import access, forms
from requests_portal.models import MessageKind
from requests_portal.services import clock, lifecycle, messaging, review, work
from requests_portal.services.changes import RequestStateError
from requests_portal.views.staff_request import build_form, render_detail

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def _fields(*names: str) -> Callable[[dict], dict]:
    """The service's keyword arguments are the action form's fields of the same names."""
    return lambda data: {name: data[name] for name in names}


_NO_ARGUMENTS = _fields()


def _staff_action(
    permission: policy.Permission,
    service: Callable[..., object],
    success: str | _StrPromise | Callable[[dict], str | _StrPromise],
    form_name: str | None = None,
    arguments: Callable[[dict], dict] = _NO_ARGUMENTS,
    *,
    creates: bool = False,
) -> Callable[..., HttpResponse]:
    """The POST view of one action: ``service`` called on the request with the keyword
    arguments ``arguments`` makes of the valid form's cleaned data, ``success`` shown (or
    what it makes of the cleaned data, when it is a function).
    ``creates``: sending its form twice would add twice (a message, a task, an extension),
    so the form's one-time token is claimed (accounts.once)."""

    def act(request: HttpRequest, number: str) -> HttpResponse:
        records_request = access.get_request_for_staff(request.user, request.agency, number)
        if not access.can_act_on(request.user, request.agency, records_request, permission):
            raise PermissionDenied
        data = {}
        if form_name is not None:
            form = build_form(form_name, request, records_request, request.POST)
            if not form.is_valid():
                return render_detail(request, records_request, {form_name: form}, 400)
            data = form.cleaned_data
        try:
            service(
                records_request=records_request,
                actor=request.user,
                http_request=request,
                **arguments(data),
            )
        except RequestStateError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, success(data) if callable(success) else success)
        return redirect("staff:request_detail", number=records_request.number)

    return require_POST(agency_permission(permission)(once_per_form(act) if creates else act))


# What the page says once a message is saved: the kind is the button that was pressed.
_MESSAGE_SAVED = {
    MessageKind.INTERNAL: _("Internal note saved. Only staff can read it."),
    MessageKind.TO_REQUESTER: _("Message sent to the requester."),
    MessageKind.PUBLIC_NOTE: _("Public note published."),
}

staff_acknowledge = _staff_action(
    policy.REQUEST_EDIT, lifecycle.request_acknowledge, _("Acknowledged.")
)
staff_message = _staff_action(
    policy.REQUEST_INTERNAL_WORK,
    messaging.request_message,
    lambda data: _MESSAGE_SAVED[data["kind"]],
    "message",
    _fields("kind", "body", "notify"),
    creates=True,
)
staff_route = _staff_action(
    policy.REQUEST_EDIT,
    lifecycle.request_route,
    _("Routing saved."),
    "route",
    lambda data: {
        "departments": list(data["departments"]),
        "lead": data["lead"],
        "point_of_contact": data["point_of_contact"],
    },
)
staff_pause = _staff_action(
    policy.REQUEST_CHANGE_DUE_DATE,
    clock.request_pause,
    _("The clock is paused."),
    "pause",
    _fields("reason"),
)
staff_resume = _staff_action(
    policy.REQUEST_CHANGE_DUE_DATE, clock.request_resume, _("The clock is running again.")
)
staff_extend = _staff_action(
    policy.REQUEST_CHANGE_DUE_DATE,
    clock.request_extend,
    _("Deadline extended; the requester has been told."),
    "extend",
    _fields("days", "reason"),
    creates=True,
)
staff_due_date = _staff_action(
    policy.REQUEST_CHANGE_DUE_DATE,
    clock.request_set_due_date,
    _("Due date changed."),
    "due",
    _fields("due_date", "reason"),
)
staff_close = _staff_action(
    policy.REQUEST_CLOSE,
    lifecycle.request_close,
    _("Request closed."),
    "close",
    _fields("reason", "citation", "note"),
)
staff_reopen = _staff_action(
    policy.REQUEST_CLOSE,
    lifecycle.request_reopen,
    _("Request reopened."),
    "reopen",
    _fields("reason"),
)
staff_visibility = _staff_action(
    policy.REQUEST_EDIT,
    lifecycle.request_set_visibility,
    _("Visibility changed."),
    "visibility",
    _fields("visibility"),
)
staff_release_description = _staff_action(
    policy.REQUEST_EDIT,
    review.request_release_description,
    _("Description reviewed: the request is no longer held from the public."),
    "description",
    _fields("description"),
)
staff_task_add = _staff_action(
    policy.REQUEST_INTERNAL_WORK,
    work.task_add,
    _("Task added."),
    "task",
    _fields("title", "assignee", "due_date"),
    creates=True,
)
staff_tags = _staff_action(
    policy.REQUEST_INTERNAL_WORK,
    work.tags_set,
    _("Tags saved."),
    "tags",
    lambda data: {"names": data["tags"]},
    creates=True,
)
staff_time_log = _staff_action(
    policy.REQUEST_INTERNAL_WORK,
    work.time_log,
    _("Time logged."),
    "time",
    _fields("day", "minutes", "note"),
    creates=True,
)


@require_POST
@agency_permission(policy.REQUEST_INTERNAL_WORK)
@once_per_form  # a double click marks it done once, not done and undone
def staff_task_done(request: HttpRequest, number: str, task_id: int) -> HttpResponse:
    records_request = access.get_request_for_staff(request.user, request.agency, number)
    task = access.get_task_for(request.user, request.agency, records_request, task_id)
    work.task_set_done(
        task=task, actor=request.user, done=task.done_at is None, http_request=request
    )
    return redirect("staff:request_detail", number=records_request.number)


@require_POST
@agency_permission(policy.REQUEST_INTERNAL_WORK)
def staff_time_update(request: HttpRequest, number: str, entry_id: int) -> HttpResponse:
    """Correct a time entry: one's own, or anyone's for admins."""
    agency = request.agency
    records_request = access.get_request_for_staff(request.user, agency, number)
    entry = access.get_time_entry_for(request.user, agency, records_request, entry_id)
    if entry.user_id != request.user.pk and not policy.can(
        request.user, agency, policy.TIME_EDIT_OTHERS
    ):
        raise PermissionDenied
    form = forms.TimeEntryForm(
        {
            "day": entry.day,
            "minutes": request.POST.get("minutes"),
            "note": request.POST.get("note", ""),
        },
        today=agency_today(agency),
    )
    if not form.is_valid():
        messages.error(request, gettext("Enter the minutes as a whole number between 1 and 1440."))
    else:
        work.time_update(
            entry=entry,
            actor=request.user,
            minutes=form.cleaned_data["minutes"],
            note=form.cleaned_data["note"],
            http_request=request,
        )
        messages.success(request, gettext("Time entry corrected."))
    return redirect("staff:request_detail", number=records_request.number)
