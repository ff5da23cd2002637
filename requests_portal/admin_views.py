"""Agency admin pages: deadline rules and portal choices, holidays, closure reasons,
departments and who works in them, response templates, request types, custom form
questions, the requests report; and each staff member's own email choices."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today
from accounts.once import once_per_form
from requests_portal import access, admin_forms, reports
from requests_portal.services import agency_settings, clock, preferences


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
def request_settings(request):
    current = clock.settings_for(request.agency)
    form = admin_forms.RequestSettingsForm(request.POST or None, instance=current)
    if request.method == "POST":
        if form.is_valid():
            # Compare against a fresh copy: the form already wrote into ``current``.
            agency_settings.request_settings_update(
                request_settings=clock.settings_for(request.agency),
                actor=request.user,
                changes=form.cleaned_data,
                http_request=request,
            )
            messages.success(request, gettext("Settings saved. New requests use them from now on."))
            return redirect("staff:settings")
        return render(request, "requests_portal/admin/settings.html", {"form": form}, status=400)
    return render(request, "requests_portal/admin/settings.html", {"form": form})


def _holidays_page(request, form=None, defaults_form=None, status=200):
    return render(
        request,
        "requests_portal/admin/holidays.html",
        {
            "holidays": access.holidays_for(request.user, request.agency),
            "form": form or admin_forms.HolidayForm(),
            "defaults_form": defaults_form
            or admin_forms.DefaultHolidaysForm(
                initial={"year": agency_today(request.agency).year + 1}
            ),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.DEADLINE_RULES_MANAGE)
@once_per_form
def holidays(request):
    if request.method == "POST":
        form = admin_forms.HolidayForm(request.POST)
        if not form.is_valid():
            return _holidays_page(request, form=form, status=400)
        agency_settings.holiday_add(
            agency=request.agency,
            actor=request.user,
            day=form.cleaned_data["date"],
            name=form.cleaned_data["name"],
            http_request=request,
        )
        messages.success(request, gettext("Holiday saved. Deadlines set from now on count it."))
        return redirect("staff:holidays")
    return _holidays_page(request)


@require_POST
@agency_permission(policy.DEADLINE_RULES_MANAGE)
@once_per_form
def holidays_load_defaults(request):
    form = admin_forms.DefaultHolidaysForm(request.POST)
    if not form.is_valid():
        return _holidays_page(request, defaults_form=form, status=400)
    added = agency_settings.holidays_load_defaults(
        agency=request.agency,
        years=[form.cleaned_data["year"]],
        actor=request.user,
        http_request=request,
    )
    messages.success(
        request,
        ngettext("%(n)s holiday added.", "%(n)s holidays added.", added) % {"n": added},
    )
    return redirect("staff:holidays")


@require_POST
@agency_permission(policy.DEADLINE_RULES_MANAGE)
def holiday_remove(request, holiday_id: int):
    holiday = access.get_holiday_for(request.user, request.agency, holiday_id)
    agency_settings.holiday_remove(holiday=holiday, actor=request.user, http_request=request)
    messages.success(request, gettext("Holiday removed."))
    return redirect("staff:holidays")


def _toggle_view(
    permission: policy.Permission,
    page: str,
    get_item: Callable,
    set_active: Callable[..., None],
    item_argument: str,
) -> Callable[..., HttpResponse]:
    """The POST view that turns one of the agency's items (a closure reason, request type or
    form question) on or off, then shows its list again. ``get_item(user, agency, id)`` is
    its access helper (404 for another agency's), ``set_active`` its service, which takes
    the item as ``item_argument``. A double click turns it once (accounts.once)."""

    @require_POST
    @agency_permission(permission)
    @once_per_form
    def view(request: HttpRequest, **url_id: int) -> HttpResponse:
        [item_id] = url_id.values()  # the URL's one id: reason_id, type_id or field_id
        item = get_item(request.user, request.agency, item_id)
        set_active(
            **{item_argument: item},
            actor=request.user,
            active=not item.is_active,
            http_request=request,
        )
        return redirect(f"staff:{page}")

    return view


def _reasons_page(request, form=None, status=200):
    return render(
        request,
        "requests_portal/admin/closure_reasons.html",
        {
            "reasons": access.all_closure_reasons_for(request.user, request.agency),
            "form": form or admin_forms.ClosureReasonForm(),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@once_per_form
def closure_reasons(request):
    if request.method == "POST":
        form = admin_forms.ClosureReasonForm(request.POST)
        if not form.is_valid():
            return _reasons_page(request, form, status=400)
        agency_settings.closure_reason_add(
            agency=request.agency,
            actor=request.user,
            name=form.cleaned_data["name"],
            requires_citation=form.cleaned_data["requires_citation"],
            http_request=request,
        )
        messages.success(request, gettext("Closure reason saved."))
        return redirect("staff:closure_reasons")
    return _reasons_page(request)


closure_reason_toggle = _toggle_view(
    policy.AGENCY_SETTINGS,
    "closure_reasons",
    access.get_closure_reason_for,
    agency_settings.closure_reason_set_active,
    "reason",
)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.DEPARTMENTS_MANAGE)
@once_per_form
def department_new(request):
    form = admin_forms.DepartmentForm(request.POST or None, agency=request.agency)
    if request.method == "POST":
        if form.is_valid():
            department = agency_settings.department_save(
                agency=request.agency,
                actor=request.user,
                name=form.cleaned_data["name"],
                default_visibility=form.cleaned_data["default_visibility"],
                http_request=request,
            )
            return redirect("staff:department_edit", department_id=department.pk)
        return render(
            request, "requests_portal/admin/department_form.html", {"form": form}, status=400
        )
    return render(request, "requests_portal/admin/department_form.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.DEPARTMENTS_MANAGE)
def department_edit(request, department_id: int):
    department = access.get_department_for(request.user, request.agency, department_id)
    form = admin_forms.DepartmentForm(
        request.POST or None,
        agency=request.agency,
        instance=department,
        initial={"name": department.name, "default_visibility": department.default_visibility},
    )
    staff = access.assignable_staff(request.user, request.agency)
    member_form = admin_forms.DepartmentMemberForm(staff=staff)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            agency_settings.department_save(
                agency=request.agency,
                actor=request.user,
                department=department,
                name=form.cleaned_data["name"],
                default_visibility=form.cleaned_data["default_visibility"],
                http_request=request,
            )
            messages.success(request, gettext("Department saved."))
            return redirect("staff:department_edit", department_id=department.pk)
        status = 400
    return render(
        request,
        "requests_portal/admin/department_form.html",
        {
            "form": form,
            "department": department,
            "members": access.department_members_for(request.user, request.agency, department),
            "member_form": member_form,
        },
        status=status,
    )


@require_POST
@agency_permission(policy.DEPARTMENTS_MANAGE)
def department_member(request, department_id: int):
    department = access.get_department_for(request.user, request.agency, department_id)
    form = admin_forms.DepartmentMemberForm(
        request.POST, staff=access.assignable_staff(request.user, request.agency)
    )
    if not form.is_valid():
        messages.error(request, gettext("Choose one of the agency's staff."))
        return redirect("staff:department_edit", department_id=department.pk)
    remove = request.POST.get("remove") == "1"
    agency_settings.department_member_set(
        department=department,
        actor=request.user,
        user=form.cleaned_data["user"],
        member=not remove,
        point_of_contact=form.cleaned_data["point_of_contact"] and not remove,
        http_request=request,
    )
    messages.success(request, gettext("Removed.") if remove else gettext("Saved."))
    return redirect("staff:department_edit", department_id=department.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.STAFF_AREA)
def notification_preferences(request):
    current = access.notification_preferences_for(request.user, request.agency)
    form = admin_forms.NotificationPreferenceForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        preferences.notification_preferences_update(
            agency=request.agency,
            actor=request.user,
            choices=form.cleaned_data,
            http_request=request,
        )
        messages.success(request, gettext("Your email choices are saved."))
        return redirect("staff:notifications")
    return render(request, "requests_portal/admin/notifications.html", {"form": form})


@require_safe
@agency_permission(policy.REPORTS_VIEW)
def report(request):
    # The default range is this year so far, today included, and "overdue" is judged against
    # today: both on the agency's calendar. A range left out (an export link without one
    # too) is the default rather than an error.
    today = agency_today(request.agency)
    query = request.GET.copy()
    query.setdefault("start", today.replace(month=1, day=1).isoformat())
    query.setdefault("end", today.isoformat())
    form = admin_forms.ReportForm(query)
    if not form.is_valid():
        return render(request, "requests_portal/admin/report.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows, total = reports.build_report(request.agency, start, end, today)
    export = request.GET.get("format")
    name = f"requests-{request.agency.slug}-{start}-{end}"
    if export == "csv":
        response = HttpResponse(reports.to_csv(rows, total), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if export == "xlsx":
        response = HttpResponse(
            reports.to_xlsx(rows, total, title="Requests"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    biggest = max([r.received for r in rows] + [1])
    chart = [
        {"row": r, "y": 10 + i * 34, "width": round(400 * r.received / biggest)}
        for i, r in enumerate(rows)
    ]
    return render(
        request,
        "requests_portal/admin/report.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "columns": reports.COLUMNS,
            "chart": chart,
            "chart_height": 20 + 34 * len(rows),
            "start": start,
            "end": end,
            "today": today,
            "query": f"start={start}&end={end}",
        },
    )


def _list_page(request, template, context, status=200):
    return render(request, f"requests_portal/admin/{template}.html", context, status=status)


def _list_and_add(request, *, form_class, save, items, page: str, saved: str):
    """An admin page that lists the agency's items and adds one from its form: the form's
    errors come back with 400, a saved item redirects back to the list."""
    form = form_class(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            save(
                agency=request.agency, actor=request.user, http_request=request, **form.cleaned_data
            )
            messages.success(request, saved)
            return redirect(f"staff:{page}")
        return _list_page(request, page, {"form": form, "items": items}, status=400)
    return _list_page(request, page, {"form": form, "items": items})


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.TEMPLATES_MANAGE)
@once_per_form
def templates(request):
    return _list_and_add(
        request,
        form_class=admin_forms.TemplateForm,
        save=agency_settings.template_save,
        items=access.managed_templates_for(request.user, request.agency),
        page="templates",
        saved=gettext("Template saved."),
    )


@require_POST
@agency_permission(policy.TEMPLATES_MANAGE)
def template_delete(request, template_id: int):
    template = access.get_managed_template_for(request.user, request.agency, template_id)
    agency_settings.template_delete(template=template, actor=request.user, http_request=request)
    messages.success(request, gettext("Template deleted."))
    return redirect("staff:templates")


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.DEADLINE_RULES_MANAGE)
@once_per_form
def request_types(request):
    return _list_and_add(
        request,
        form_class=admin_forms.RequestTypeForm,
        save=agency_settings.request_type_save,
        items=access.all_request_types_for(request.user, request.agency),
        page="request_types",
        saved=gettext("Request type saved."),
    )


request_type_toggle = _toggle_view(
    policy.DEADLINE_RULES_MANAGE,
    "request_types",
    access.get_request_type_for,
    agency_settings.request_type_set_active,
    "request_type",
)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@once_per_form
def custom_fields(request):
    return _list_and_add(
        request,
        form_class=admin_forms.CustomFieldForm,
        save=agency_settings.custom_field_add,
        items=access.all_custom_fields_for(request.user, request.agency),
        page="custom_fields",
        saved=gettext("Question added to the request form."),
    )


custom_field_toggle = _toggle_view(
    policy.AGENCY_SETTINGS,
    "custom_fields",
    access.get_custom_field_for,
    agency_settings.custom_field_set_active,
    "field",
)
