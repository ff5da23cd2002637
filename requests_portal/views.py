from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import policy
from accounts.decorators import agency_permission
from requests_portal import access


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
