"""Views for residents (file, follow, reply, search the archive) and staff (queue, intake,
work a request through its life). Thin: forms validate, access helpers read, services write.
"""

from __future__ import annotations

import datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

import audit
from accounts import policy
from accounts.decorators import agency_permission
from requests_portal import access, deadlines, forms, services, tracking, work_services
from requests_portal.models import MessageKind, Status, TemplateKind
from requests_portal.search import highlighted, public_search, search, with_snippets

ARCHIVE_PAGE_SIZE = 25
SEARCH_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 matches, without ranking them: "more than 1,000 requests
    match" is as useful to a reader as the exact number, and far cheaper for common words."""

    cap = SEARCH_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


QUEUE_PAGE_SIZE = 50


def _agency_or_404(request):
    if request.agency is None:
        raise Http404
    return request.agency


# --- Departments (staff) -------------------------------------------------------------------


@require_safe
@agency_permission(policy.DEPARTMENTS_VIEW)
def department_list(request):
    departments = access.departments_for(request.user, request.agency)
    return render(request, "requests_portal/department_list.html", {"departments": departments})


@require_safe
@agency_permission(policy.DEPARTMENTS_VIEW)
def department_detail(request, department_id: int):
    department = access.get_department_for(request.user, request.agency, department_id)
    members = access.department_members_for(request.user, request.agency, department)
    return render(
        request,
        "requests_portal/department_detail.html",
        {"department": department, "members": members},
    )


# --- Residents -----------------------------------------------------------------------------


def _client_ip_key(group, request):
    return audit.client_ip(request) or "unknown"


def _email_key(group, request):
    return (request.POST.get("email") or "").strip().lower() or _client_ip_key(group, request)


def _rate_limited(request) -> bool:
    by_ip = is_ratelimited(
        request,
        group="request_submit_ip",
        key=_client_ip_key,
        rate=settings.REQUEST_SUBMIT_RATE_PER_IP,
        increment=True,
    )
    by_email = is_ratelimited(
        request,
        group="request_submit_email",
        key=_email_key,
        rate=settings.REQUEST_SUBMIT_RATE_PER_EMAIL,
        increment=True,
    )
    return by_ip or by_email


def _similar(agency, text: str, limit: int = 5) -> list:
    # PostgreSQL text cannot hold NUL; a hand-made URL may carry one.
    text = (text or "").replace("\x00", "").strip()
    if len(text) < 3:
        return []
    return _public_page_rows(agency, public_search(agency, text[:200])[:limit], text[:200])


def _public_page_rows(agency, entries, text: str) -> list[dict]:
    """The requests of a page of search entries, in the entries' order, with snippets."""
    ids = [entry.request_id for entry in entries]
    found = with_snippets(access.public_requests(agency).filter(pk__in=ids), text).in_bulk()
    return [
        {"r": found[pk], "snippet": highlighted(found[pk].snippet)} for pk in ids if pk in found
    ]


@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request):
    agency = _agency_or_404(request)
    request_settings = services.settings_for(agency)
    form_kwargs = {
        "departments": access.public_departments(agency)
        if request_settings.show_department_picker
        else None,
        "allow_anonymous": request_settings.allow_anonymous,
        "user": request.user,
        "request_types": access.active_request_types(agency),
        "custom_fields": access.active_custom_fields(agency),
    }
    status = 200
    if request.method == "POST":
        form = forms.RequestForm(request.POST, **form_kwargs)
        if _rate_limited(request):
            form.add_error(
                None,
                "You have sent several requests in a short time. Please wait an hour and try "
                "again, or contact the agency by phone.",
            )
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            actor = request.user if request.user.is_authenticated else None
            records_request = services.request_submit(
                agency=agency,
                actor=actor,
                title=data["title"],
                description=data["description"],
                contact=services.Contact(
                    name=data["name"],
                    email=data.get("email") or (actor.email if actor else ""),
                    phone=data["phone"],
                    address=data["address"],
                ),
                department=data.get("department"),
                delivery=data["delivery"],
                request_type=data.get("request_type"),
                custom_data=form.custom_data(),
                http=request,
            )
            request.session["just_filed"] = records_request.number
            url = reverse("request_detail", args=[records_request.number])
            if actor is None:
                url += f"?t={tracking.tracking_token(records_request)}"
            return redirect(url)
        else:
            status = 400
    else:
        form = forms.RequestForm(**form_kwargs)
    similar = _similar(agency, request.GET.get("similar", ""))
    return render(
        request,
        "requests_portal/request_new.html",
        {
            "form": form,
            "request_settings": request_settings,
            "similar": similar,
            "similar_query": request.GET.get("similar", ""),
        },
        status=status,
    )


@require_safe
def request_similar(request):
    """The similar-requests box, as an HTML fragment for the form's script."""
    agency = _agency_or_404(request)
    return render(
        request,
        "requests_portal/_similar.html",
        {"similar": _similar(agency, request.GET.get("q", ""))},
    )


def _resident_view(request, number: str) -> access.PublicView:
    agency = _agency_or_404(request)
    return access.get_request_for_resident(
        request.user, agency, number, tracking=request.GET.get("t", "")
    )


@require_safe
def request_detail(request, number: str):
    view = _resident_view(request, number)
    records_request = view.request
    is_requester = view.viewer == access.Viewer.REQUESTER
    just_filed = request.session.pop("just_filed", None) == records_request.number
    return render(
        request,
        "requests_portal/request_detail.html",
        {
            "r": records_request,
            "is_requester": is_requester,
            "tracking": view.tracking,
            "just_filed": just_filed,
            "timeline": access.public_timeline(records_request).order_by("created_at", "id"),
            "messages_list": (
                access.requester_messages(records_request)
                if is_requester
                else access.public_messages(records_request)
            ).select_related("author"),
            "reply_form": forms.ReplyForm() if is_requester else None,
            "is_staff_member": policy.can(request.user, request.agency, policy.STAFF_AREA),
        },
    )


@require_POST
def request_reply(request, number: str):
    view = _resident_view(request, number)
    if view.viewer != access.Viewer.REQUESTER:
        raise Http404
    form = forms.ReplyForm(request.POST)
    url = reverse("request_detail", args=[number]) + (
        f"?t={view.tracking}" if view.tracking else ""
    )
    if not form.is_valid():
        messages.error(request, "Write a message before sending it.")
        return redirect(url)
    try:
        services.request_message(
            records_request=view.request,
            actor=request.user if request.user.is_authenticated else None,
            kind=MessageKind.FROM_REQUESTER,
            body=form.cleaned_data["body"],
            http=request,
        )
    except services.RequestStateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Your message was sent to the agency.")
    return redirect(url)


@require_safe
@login_required
def my_requests(request):
    agency = _agency_or_404(request)
    mine = access.requester_requests_for(request.user, agency).order_by("-created_at")
    page = Paginator(mine, ARCHIVE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "requests_portal/my_requests.html", {"page": page})


def _filter_public(queryset, data, prefix: str = ""):
    """The archive's filters, on requests or (with prefix "request__") on search entries."""
    queryset = _apply_common_filters(queryset, data, prefix)
    if data.get("status") == "closed":
        queryset = queryset.filter(**{f"{prefix}status": Status.CLOSED})
    elif data.get("status") == "open":
        queryset = queryset.exclude(**{f"{prefix}status": Status.CLOSED})
    return queryset


def _has_common_filters(data) -> bool:
    return any(data.get(key) for key in ("department", "since", "until"))


def _apply_common_filters(queryset, data, prefix: str = ""):
    if data.get("department"):
        queryset = queryset.filter(**{f"{prefix}requestdepartment__department": data["department"]})
    if data.get("since"):
        queryset = queryset.filter(**{f"{prefix}day_zero__gte": data["since"]})
    if data.get("until"):
        queryset = queryset.filter(**{f"{prefix}day_zero__lte": data["until"]})
    return queryset


@require_safe
def archive(request):
    agency = _agency_or_404(request)
    form = forms.ArchiveFilterForm(
        request.GET or None, departments=access.public_departments(agency)
    )
    data = form.cleaned_data if form.is_valid() else {}
    query = (data.get("q") or "").strip()
    if query:
        # Search the public index (fast: its GIN index is usable), then load the page.
        entries = _filter_public(public_search(agency, query), data, prefix="request__")
        page = CappedPaginator(entries, ARCHIVE_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = _public_page_rows(agency, page.object_list, query)
    else:
        listed = _filter_public(access.public_requests(agency), data).order_by("-year", "-sequence")
        page = Paginator(listed, ARCHIVE_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{"r": r, "snippet": None} for r in page.object_list]
    return render(
        request,
        "requests_portal/archive.html",
        {"form": form, "page": page, "rows": rows, "query": query, "params": _page_params(request)},
    )


def _page_params(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- Staff ---------------------------------------------------------------------------------


def _today(agency) -> datetime.date:
    return timezone.localtime(timezone.now(), _zone(agency)).date()


def _zone(agency):
    from zoneinfo import ZoneInfo

    return ZoneInfo(agency.time_zone)


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_queue(request):
    agency = request.agency
    visible = access.staff_requests_for(request.user, agency)
    form = forms.QueueFilterForm(
        request.GET or None, departments=access.departments_for(request.user, agency)
    )
    data = form.cleaned_data if form.is_valid() else {}
    today = _today(agency)
    # Every summary count is about requests not closed: count only those rows. Counting
    # "status" (not "pk") lets PostgreSQL answer from the request_queue index alone.
    counts = visible.exclude(status=Status.CLOSED).aggregate(
        open=Count("status"),
        overdue=Count(
            "status",
            filter=Q(due_date__lt=today) & Q(status__in=[Status.SUBMITTED, Status.OPEN]),
        ),
        submitted=Count("status", filter=Q(status=Status.SUBMITTED)),
        paused=Count("status", filter=Q(status=Status.PAUSED)),
    )
    queue = visible
    scope = data.get("scope") or "all"
    if scope == "mine":
        queue = queue.filter(point_of_contact=request.user)
    elif scope == "departments":
        queue = queue.filter(pk__in=access._my_department_request_ids(request.user, agency))
    status = data.get("status") or ""
    if status == "overdue":
        queue = queue.filter(due_date__lt=today, status__in=[Status.SUBMITTED, Status.OPEN])
    elif status in (Status.SUBMITTED, Status.OPEN, Status.PAUSED, Status.CLOSED):
        queue = queue.filter(status=status)
    elif status != "any":
        queue = queue.exclude(status=Status.CLOSED)
    queue = _apply_common_filters(queue, data)
    query = (data.get("q") or "").strip()
    if query:
        queue = search(queue, query)
    else:
        order = {"newest": ["-created_at"], "oldest": ["created_at"]}.get(
            data.get("sort") or "due", ["due_date", "created_at"]
        )
        queue = queue.order_by(*order)
    queue = queue.select_related("point_of_contact")
    paginator = Paginator(queue, QUEUE_PAGE_SIZE)
    if scope == "all" and not status and not query and not _has_common_filters(data):
        # The default view is exactly the "not closed" summary count: don't count twice.
        paginator.count = counts["open"]
    page = paginator.get_page(request.GET.get("page"))
    calendar = services.calendar_for(agency, services.settings_for(agency))
    now = timezone.now()
    rows = [
        {
            "r": r,
            "overdue": r.status in (Status.SUBMITTED, Status.OPEN)
            and deadlines.is_overdue(now, r.due_date, calendar),
            "due_soon": r.status in (Status.SUBMITTED, Status.OPEN)
            and deadlines.is_due_soon(now, r.due_date, calendar),
        }
        for r in page.object_list
    ]
    return render(
        request,
        "requests_portal/staff_queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "counts": counts,
            "params": _page_params(request),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.REQUEST_LOG)
def staff_request_new(request):
    agency = request.agency
    departments = access.departments_for(request.user, agency)
    extra = {
        "request_types": access.active_request_types(agency),
        "custom_fields": access.active_custom_fields(agency),
    }
    if request.method == "POST":
        form = forms.StaffRequestForm(request.POST, departments=departments, **extra)
        if form.is_valid():
            data = form.cleaned_data
            records_request = services.request_submit(
                agency=agency,
                actor=request.user,
                title=data["title"],
                description=data["description"],
                contact=services.Contact(
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
                http=request,
            )
            messages.success(request, f"Request {records_request.number} logged.")
            return redirect("staff:request_detail", number=records_request.number)
        status = 400
    else:
        form = forms.StaffRequestForm(
            departments=departments, initial={"received_on": _today(agency)}
        )
        status = 200
    return render(request, "requests_portal/staff_request_new.html", {"form": form}, status=status)


def _message_kinds(request, records_request) -> list[str]:
    kinds = [MessageKind.INTERNAL]
    if access.can_act_on(
        request.user, request.agency, records_request, policy.REQUEST_MESSAGE_REQUESTER
    ):
        kinds += [MessageKind.TO_REQUESTER, MessageKind.PUBLIC_NOTE]
    return kinds


def _build_form(name: str, request, records_request, data=None):
    """One action form of the request page, bound to ``data`` when given."""
    agency = request.agency
    if name == "message":
        return forms.MessageForm(
            data,
            kinds=_message_kinds(request, records_request),
            staff=access.staff_who_can_see(
                records_request, access.assignable_staff_for_tasks(request.user, agency)
            ),
        )
    if name in ("pause", "reopen"):
        return forms.ReasonForm(data, prefix=name)
    if name == "extend":
        return forms.ExtendForm(data, prefix=name)
    if name == "due":
        return forms.DueDateForm(data, prefix=name, day_zero=records_request.day_zero)
    if name == "close":
        reasons = access.closure_reasons_for(request.user, agency)
        return forms.CloseForm(data, prefix=name, reasons=reasons)
    if name == "visibility":
        return forms.VisibilityForm(
            data, prefix=name, initial={"visibility": records_request.visibility}
        )
    if name == "route":
        staff = access.assignable_staff(request.user, agency)
        lead = (
            records_request.requestdepartment_set.filter(agency=agency, is_lead=True)
            .values_list("department", flat=True)
            .first()
        )
        return forms.RouteForm(
            data,
            prefix=name,
            departments=access.departments_for(request.user, agency),
            staff=staff,
            initial={
                "departments": list(records_request.departments.filter(agency=agency)),
                "lead": lead,
                "point_of_contact": str(records_request.point_of_contact_id or ""),
            },
        )
    if name == "task":
        staff = access.assignable_staff_for_tasks(request.user, agency)
        return forms.TaskForm(
            data, prefix=name, staff=access.staff_who_can_see(records_request, staff)
        )
    if name == "tags":
        return forms.TagsForm(
            data,
            prefix=name,
            initial={"tags": ", ".join(access.request_tag_names(records_request))},
        )
    if name == "time":
        return forms.TimeEntryForm(data, prefix=name, initial={"day": timezone.localdate()})
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
    "route": policy.REQUEST_EDIT,
    "task": policy.REQUEST_INTERNAL_WORK,
    "tags": policy.REQUEST_INTERNAL_WORK,
    "time": policy.REQUEST_INTERNAL_WORK,
}
# Where a template's text goes: message body, closing note, extension reason.
_TEMPLATE_TARGETS = {
    TemplateKind.MESSAGE: ("message", "body"),
    TemplateKind.CLOSURE: ("close", "note"),
    TemplateKind.EXTENSION: ("extend", "reason"),
}


def _render_detail(request, records_request, bound: dict | None = None, status: int = 200):
    agency = request.agency
    action_forms = {
        name: (bound or {}).get(name) or _build_form(name, request, records_request)
        for name, permission in _FORM_PERMISSIONS.items()
        if access.can_act_on(request.user, agency, records_request, permission)
    }
    chosen = access.get_template_for(request.user, agency, request.GET.get("template"))
    if chosen is not None and not bound:
        form_name, field = _TEMPLATE_TARGETS[TemplateKind(chosen.kind)]
        if form_name in action_forms:
            # The extension reason is shown publicly; messages and closing notes are not.
            text = work_services.fill_placeholders(
                chosen.body, records_request, public=field == "reason"
            )
            action_forms[form_name].initial[field] = text[:200] if field == "reason" else text
    templates = list(access.templates_for(request.user, agency))
    return render(
        request,
        "requests_portal/staff_request_detail.html",
        {
            "r": records_request,
            "timeline": records_request.timeline.filter(agency=agency)
            .select_related("actor")
            .order_by("created_at", "id"),
            "messages_list": records_request.messages.filter(agency=agency).select_related(
                "author"
            ),
            "request_departments": records_request.requestdepartment_set.filter(agency=agency)
            .select_related("department")
            .order_by("-is_lead", "department__name"),
            "forms": action_forms,
            "can_acknowledge": access.can_act_on(
                request.user, agency, records_request, policy.REQUEST_EDIT
            ),
            "templates": {
                kind: [t for t in templates if t.kind == kind] for kind in TemplateKind.values
            },
            "tasks": access.request_tasks(records_request),
            "time_entries": access.request_time_entries(records_request),
            "can_edit_others_time": policy.can(request.user, agency, policy.TIME_EDIT_OTHERS),
        },
        status=status,
    )


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_request_detail(request, number: str):
    records_request = access.get_request_for_staff(request.user, request.agency, number)
    return _render_detail(request, records_request)


def _staff_action(permission, form_name: str | None = None):
    """Decorate a POST action on one request: the declared permission, the request fetched
    through the access helper (404 for outsiders), the department-admin scope (403), the
    form validated (the page again with its errors, 400), state errors shown as messages."""

    def decorator(handler):
        @require_POST
        @agency_permission(permission)
        @wraps(handler)
        def view(request, number: str):
            records_request = access.get_request_for_staff(request.user, request.agency, number)
            if not access.can_act_on(request.user, request.agency, records_request, permission):
                raise PermissionDenied
            data = {}
            if form_name is not None:
                form = _build_form(form_name, request, records_request, request.POST)
                if not form.is_valid():
                    return _render_detail(request, records_request, {form_name: form}, 400)
                data = form.cleaned_data
            try:
                handler(request, records_request, data)
            except services.RequestStateError as error:
                messages.error(request, str(error))
            return redirect("staff:request_detail", number=records_request.number)

        return view

    return decorator


@_staff_action(policy.REQUEST_EDIT)
def staff_acknowledge(request, records_request, data):
    services.request_acknowledge(records_request=records_request, actor=request.user, http=request)
    messages.success(request, "Acknowledged.")


@_staff_action(policy.REQUEST_INTERNAL_WORK, "message")
def staff_message(request, records_request, data):
    services.request_message(
        records_request=records_request,
        actor=request.user,
        kind=data["kind"],
        body=data["body"],
        notify=data.get("notify", []),
        http=request,
    )
    messages.success(request, "Message saved.")


@_staff_action(policy.REQUEST_EDIT, "route")
def staff_route(request, records_request, data):
    services.request_route(
        records_request=records_request,
        actor=request.user,
        departments=list(data["departments"]),
        lead=data.get("lead"),
        point_of_contact=data.get("point_of_contact"),
        http=request,
    )
    messages.success(request, "Routing saved.")


@_staff_action(policy.REQUEST_CHANGE_DUE_DATE, "pause")
def staff_pause(request, records_request, data):
    services.request_pause(
        records_request=records_request, actor=request.user, reason=data["reason"], http=request
    )
    messages.success(request, "The clock is paused.")


@_staff_action(policy.REQUEST_CHANGE_DUE_DATE)
def staff_resume(request, records_request, data):
    services.request_resume(records_request=records_request, actor=request.user, http=request)
    messages.success(request, "The clock is running again.")


@_staff_action(policy.REQUEST_CHANGE_DUE_DATE, "extend")
def staff_extend(request, records_request, data):
    services.request_extend(
        records_request=records_request,
        actor=request.user,
        days=data["days"],
        reason=data["reason"],
        http=request,
    )
    messages.success(request, "Deadline extended; the requester has been told.")


@_staff_action(policy.REQUEST_CHANGE_DUE_DATE, "due")
def staff_due_date(request, records_request, data):
    services.request_set_due_date(
        records_request=records_request,
        actor=request.user,
        due_date=data["due_date"],
        reason=data["reason"],
        http=request,
    )
    messages.success(request, "Due date changed.")


@_staff_action(policy.REQUEST_CLOSE, "close")
def staff_close(request, records_request, data):
    services.request_close(
        records_request=records_request,
        actor=request.user,
        reason=data["reason"],
        citation=data.get("citation", ""),
        note=data.get("note", ""),
        http=request,
    )
    messages.success(request, "Request closed.")


@_staff_action(policy.REQUEST_CLOSE, "reopen")
def staff_reopen(request, records_request, data):
    services.request_reopen(
        records_request=records_request, actor=request.user, reason=data["reason"], http=request
    )
    messages.success(request, "Request reopened.")


@_staff_action(policy.REQUEST_EDIT, "visibility")
def staff_visibility(request, records_request, data):
    services.request_set_visibility(
        records_request=records_request,
        actor=request.user,
        visibility=data["visibility"],
        http=request,
    )
    messages.success(request, "Visibility changed.")


@_staff_action(policy.REQUEST_INTERNAL_WORK, "task")
def staff_task_add(request, records_request, data):
    work_services.task_add(
        records_request=records_request,
        actor=request.user,
        title=data["title"],
        assignee=data.get("assignee"),
        due_date=data.get("due_date"),
        http=request,
    )
    messages.success(request, "Task added.")


@_staff_action(policy.REQUEST_INTERNAL_WORK, "tags")
def staff_tags(request, records_request, data):
    work_services.tags_set(
        records_request=records_request, actor=request.user, names=data["tags"], http=request
    )
    messages.success(request, "Tags saved.")


@_staff_action(policy.REQUEST_INTERNAL_WORK, "time")
def staff_time_log(request, records_request, data):
    work_services.time_log(
        records_request=records_request,
        actor=request.user,
        day=data["day"],
        minutes=data["minutes"],
        note=data.get("note", ""),
        http=request,
    )
    messages.success(request, "Time logged.")


@require_POST
@agency_permission(policy.REQUEST_INTERNAL_WORK)
def staff_task_done(request, number: str, task_id: int):
    records_request = access.get_request_for_staff(request.user, request.agency, number)
    task = access.get_task_for(request.user, request.agency, records_request, task_id)
    work_services.task_set_done(
        task=task, actor=request.user, done=task.done_at is None, http=request
    )
    return redirect("staff:request_detail", number=records_request.number)


@require_POST
@agency_permission(policy.REQUEST_INTERNAL_WORK)
def staff_time_update(request, number: str, entry_id: int):
    """Correct a time entry: one's own, or anyone's for admins."""
    records_request = access.get_request_for_staff(request.user, request.agency, number)
    entry = access.get_time_entry_for(request.user, request.agency, records_request, entry_id)
    if entry.user_id != request.user.pk and not policy.can(
        request.user, request.agency, policy.TIME_EDIT_OTHERS
    ):
        raise PermissionDenied
    form = forms.TimeEntryForm(
        {
            "day": entry.day,
            "minutes": request.POST.get("minutes"),
            "note": request.POST.get("note", ""),
        }
    )
    if not form.is_valid():
        messages.error(request, "Enter the minutes as a whole number between 1 and 1440.")
    else:
        work_services.time_update(
            entry=entry,
            actor=request.user,
            minutes=form.cleaned_data["minutes"],
            note=form.cleaned_data["note"],
            http=request,
        )
        messages.success(request, "Time entry corrected.")
    return redirect("staff:request_detail", number=records_request.number)
