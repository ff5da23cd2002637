"""The actions the API offers on a request, each the staff page's own: the same permission,
the same form (requests_portal.views.staff_request.build_form) and the same service as the
POST view of that action (requests_portal/views/actions.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import policy
from requests_portal.services import clock, lifecycle


@dataclass(frozen=True)
class Action:
    permission: policy.Permission
    service: Callable[..., object]
    done: Any
    form: str | None = None  # the staff page's form of the action (its prefix)
    fields: tuple[str, ...] = ()  # of ActionIn, passed to the form under its prefix

    def arguments(self, cleaned: dict) -> dict:
        if self.form == "route":
            return {
                "departments": list(cleaned["departments"]),
                "lead": cleaned["lead"],
                "point_of_contact": cleaned["point_of_contact"],
            }
        return {name: cleaned[name] for name in self.fields}


ACTIONS: dict[str, Action] = {
    "acknowledge": Action(policy.REQUEST_EDIT, lifecycle.request_acknowledge, _("Acknowledged.")),
    "route": Action(
        policy.REQUEST_EDIT,
        lifecycle.request_route,
        _("Routing saved."),
        "route",
        ("departments", "lead", "point_of_contact"),
    ),
    "pause": Action(
        policy.REQUEST_CHANGE_DUE_DATE,
        clock.request_pause,
        _("The clock is paused."),
        "pause",
        ("reason",),
    ),
    "resume": Action(
        policy.REQUEST_CHANGE_DUE_DATE, clock.request_resume, _("The clock is running again.")
    ),
    "extend": Action(
        policy.REQUEST_CHANGE_DUE_DATE,
        clock.request_extend,
        _("Deadline extended; the requester has been told."),
        "extend",
        ("days", "reason"),
    ),
    "close": Action(
        policy.REQUEST_CLOSE,
        lifecycle.request_close,
        _("Request closed."),
        "close",
        ("reason", "citation", "note"),
    ),
}

DESCRIPTION = (
    "acknowledge: no fields. route: departments (ids), lead (a department id), "
    "point_of_contact (a user id, optional). pause: reason. resume: no fields. extend: days, "
    "reason. close: reason (a closure reason's id), citation, note. Messages: "
    "POST …/messages/."
)


def form_data(action: Action, validated: dict) -> dict:
    """ActionIn's fields as the staff page's form posts them (under the form's prefix)."""
    data: dict[str, Any] = {}
    for name in action.fields:
        value = validated.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            value = [str(v) for v in value]
        elif not isinstance(value, str):
            value = str(value)
        data[f"{action.form}-{name}"] = value
    return data
