"""The staff request page (its timeline, messages, departments, tasks, time and the action
forms the user's role allows) and the intake of requests received by phone, mail or in
person. The actions the page's forms post to are in views/actions.py."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today
from requests_portal import access, form_fragments, forms, privacy, staff_page_access
from requests_portal.models import MessageKind, RecordsRequest, Status, TemplateKind
from requests_portal.services import clock, submission, work
from requests_portal.services.changes import RequestStateError


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.REQUEST_LOG)
def staff_request_new(request: HttpRequest) -> HttpResponse:
    agency = request.agency
    departments = access.departments_for(request.user, agency)
    request_settings = clock.settings_for(agency)
    audience = privacy.form_audience(request_settings, departments)
    offers_private = request_settings.allow_private_requests and audience.may_be_public
    extra = {
        "request_types": access.active_request_types(agency),
        "custom_fields": access.active_custom_fields(agency),
        "allow_private": offers_private,
        "private_explanation": request_settings.private_request_explanation,
    }
    if request.method == "POST":
        form = forms.StaffRequestForm(
            request.POST, departments=departments, today=agency_today(agency), **extra
        )
        if form.is_valid():
            try:
                data = form.cleaned_data
                records_request = submission.request_submit(
                    agency=agency,
                    actor=request.user,
                    title=data["title"],
                    description=data["description"],
                    contact=submission.Contact(
                        name=data["name"],
                        email=data["email"],
                        phone=data["phone"],
                        address=data["address"],
                    ),
                    department=data.get("department"),
                    delivery=data["delivery"],
                    channel=data["channel"],
                    received_on=data["received_on"],
                    request_type=data.get("request_type"),
                    custom_data=form.custom_data(),
                    submission_key=data.get("submission_key"),
                    private_reason=form.privacy_reason(),
                    http_request=request,
                )
                messages.success(
                    request,
                    gettext("Request %(number)s logged.") % {"number": records_request.number},
                )
                user = request.user
                if not (
                    user.is_authenticated and access.staff_who_can_see(records_request, [user])
                ):
                    # Logged private (or for another department): not the logger's to open.
                    messages.info(
                        request,
                        gettext(
                            "You can't open request %(number)s: only the staff its visibility "
                            "names (its point of contact, its department's staff, the agency's "
                            "administrators) can."
                        )
                        % {"number": records_request.number},
                    )
                    return redirect("staff:request_queue")
                return redirect("staff:request_detail", number=records_request.number)
            except RequestStateError as error:
                form.add_error(None, str(error))
        status = 400
    else:
        form = forms.StaffRequestForm(departments=departments, today=agency_today(agency), **extra)
        status = 200
    return render(
        request,
        "requests_portal/staff_request_new.html",
        {"form": form, "audience": audience, "offers_private": offers_private},
        status=status,
    )


def _message_kinds(request: HttpRequest, records_request: RecordsRequest) -> list[str]:
    kinds = [MessageKind.INTERNAL]
    if access.can_act_on(
        request.user, request.agency, records_request, policy.REQUEST_MESSAGE_REQUESTER
    ):
        kinds += [MessageKind.TO_REQUESTER, MessageKind.PUBLIC_NOTE]
    return kinds


def build_form(name: str, request: HttpRequest, records_request: RecordsRequest, data=None) -> Form:
    """One action form of the request page, bound to ``data`` when given."""
    agency = request.agency
    if name == "message":
        return forms.MessageForm(
            data,
            kinds=_message_kinds(request, records_request),
            staff=staff_page_access.colleagues_who_see(request.user, agency, records_request),
        )
    if name in ("pause", "reopen"):
        return forms.ReasonForm(data, prefix=name)
    if name == "extend":
        return forms.ExtendForm(data, prefix=name)
    if name == "due":
        return forms.DueDateForm(
            data, prefix=name, today=agency_today(agency), day_zero=records_request.day_zero
        )
    if name == "close":
        reasons = access.closure_reasons_for(request.user, agency)
        return forms.CloseForm(data, prefix=name, reasons=reasons)
    if name == "description":
        return forms.DescriptionReviewForm(
            data, prefix=name, initial={"description": records_request.description}
        )
    if name == "visibility":
        return forms.VisibilityForm(
            data, prefix=name, initial={"visibility": records_request.visibility}
        )
    if name == "route":
        links = staff_page_access.department_links(request.user, agency, records_request)
        return forms.RouteForm(
            data,
            prefix=name,
            departments=access.departments_for(request.user, agency),
            staff=access.assignable_staff(request.user, agency),
            initial={
                "departments": [link.department for link in links],
                "lead": next((link.department_id for link in links if link.is_lead), None),
                "point_of_contact": str(records_request.point_of_contact_id or ""),
            },
        )
    if name == "task":
        staff = staff_page_access.colleagues_who_see(request.user, agency, records_request)
        return forms.TaskForm(data, prefix=name, staff=staff)
    if name == "tags":
        return forms.TagsForm(
            data,
            prefix=name,
            initial={"tags": ", ".join(access.request_tag_names(records_request))},
        )
    if name == "time":
        return forms.TimeEntryForm(data, prefix=name, today=agency_today(agency))
    raise ValueError(name)


# Which permission each action form needs; the page shows only the ones the user holds.
_FORM_PERMISSIONS = {
    "message": policy.REQUEST_INTERNAL_WORK,
    "pause": policy.REQUEST_CHANGE_DUE_DATE,
    "extend": policy.REQUEST_CHANGE_DUE_DATE,
    "due": policy.REQUEST_CHANGE_DUE_DATE,
    "close": policy.REQUEST_CLOSE,
    "reopen": policy.REQUEST_CLOSE,
    "visibility": policy.REQUEST_EDIT,
    "description": policy.REQUEST_EDIT,
    "route": policy.REQUEST_EDIT,
    "task": policy.REQUEST_INTERNAL_WORK,
    "tags": policy.REQUEST_INTERNAL_WORK,
    "time": policy.REQUEST_INTERNAL_WORK,
}
# The states in which the page shows each form (as its template does); None: every state.
_NOT_CLOSED = (Status.SUBMITTED, Status.OPEN, Status.PAUSED)
_RUNNING = (Status.SUBMITTED, Status.OPEN)
_FORM_STATES: dict[str, tuple[str, ...] | None] = {
    "pause": _NOT_CLOSED,  # paused: only its presence, for the resume button
    "extend": _RUNNING,
    "due": _RUNNING,
    "close": _NOT_CLOSED,
    "reopen": (Status.CLOSED,),
    "route": _NOT_CLOSED,
}


def _shown(name: str, records_request: RecordsRequest) -> bool:
    """Whether the page shows this action's form for the request in its present state (a
    form the page would not show is not built: its choices cost queries)."""
    if name == "description":
        return records_request.description_held
    states = _FORM_STATES.get(name)
    return states is None or records_request.status in states


# Forms whose blank fields are the same on every request of an agency (in one language):
# kept rendered (form_fragments; closure reasons renew the agency's forms version).
_KEPT_BLANK = ("pause", "reopen", "extend", "due", "close")


def _kept_fields(agency_id: int, action_forms: dict[str, Form]) -> dict[str, str]:
    """The kept fields of each blank fixed form on the page; a posted form, or one a
    response template filled, is rendered afresh."""
    kept = {}
    for name in _KEPT_BLANK:
        form = action_forms.get(name)
        if form is None or form.is_bound or form.initial:
            continue
        kept[name] = form_fragments.kept_fragment(
            agency_id=agency_id,
            key=f"staff-action:{name}:{get_language()}",
            render=partial(render_to_string, "_fields.html", {"fields": list(form)}),
        )
    return kept


# Where a template's text goes: message body, closing note, extension reason.
_TEMPLATE_TARGETS = {
    TemplateKind.MESSAGE: ("message", "body"),
    TemplateKind.CLOSURE: ("close", "note"),
    TemplateKind.EXTENSION: ("extend", "reason"),
}


def render_detail(
    request: HttpRequest,
    records_request: RecordsRequest,
    bound: dict[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The request page; ``bound`` holds a posted form to show again with its errors."""
    agency = request.agency
    user = request.user
    action_forms = {
        name: (bound or {}).get(name) or build_form(name, request, records_request)
        for name, permission in _FORM_PERMISSIONS.items()
        if _shown(name, records_request)
        and access.can_act_on(user, agency, records_request, permission)
    }
    chosen = access.get_template_for(user, agency, request.GET.get("template"))
    if chosen is not None and not bound:
        form_name, field = _TEMPLATE_TARGETS[TemplateKind(chosen.kind)]
        if form_name in action_forms:
            # The extension reason is shown publicly; messages and closing notes are not.
            text = work.fill_placeholders(chosen.body, records_request, public=field == "reason")
            action_forms[form_name].initial[field] = text[:200] if field == "reason" else text
    templates = list(access.templates_for(user, agency))
    return render(
        request,
        "requests_portal/staff_request_detail.html",
        {
            "r": records_request,
            # Web requests after the cut-off count from the next day (deadlines.day_zero).
            "cutoff": clock.settings_for(agency).cutoff,
            "timeline": access.timeline_for(user, agency, records_request, public=False),
            "messages_list": access.messages_for(user, agency, records_request, viewer=None),
            "request_departments": staff_page_access.department_links(
                user, agency, records_request
            ),
            "forms": action_forms,
            "kept": _kept_fields(agency.pk, action_forms),
            "can_acknowledge": access.can_act_on(
                user, agency, records_request, policy.REQUEST_EDIT
            ),
            "templates": {
                kind: [t for t in templates if t.kind == kind] for kind in TemplateKind.values
            },
            "tasks": access.request_tasks(records_request),
            "time_entries": access.request_time_entries(records_request),
            "can_edit_others_time": policy.can(user, agency, policy.TIME_EDIT_OTHERS),
            "personal_data_found": privacy.kinds_label(records_request.personal_data_kinds),
        },
        status=status,
    )


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_request_detail(request: HttpRequest, number: str) -> HttpResponse:
    records_request = access.get_request_for_staff(request.user, request.agency, number)
    return render_detail(request, records_request)
