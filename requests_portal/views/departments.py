"""Staff pages listing the agency's departments and who works in each (admins change them
in requests_portal/admin_views.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import policy
from accounts.decorators import agency_permission
from requests_portal import access


@require_safe
@agency_permission(policy.DEPARTMENTS_VIEW)
def department_list(request: HttpRequest) -> HttpResponse:
    departments = access.departments_for(request.user, request.agency)
    return render(request, "requests_portal/department_list.html", {"departments": departments})


@require_safe
@agency_permission(policy.DEPARTMENTS_VIEW)
def department_detail(request: HttpRequest, department_id: int) -> HttpResponse:
    department = access.get_department_for(request.user, request.agency, department_id)
    members = access.department_members_for(request.user, request.agency, department)
    return render(
        request,
        "requests_portal/department_detail.html",
        {"department": department, "members": members},
    )
