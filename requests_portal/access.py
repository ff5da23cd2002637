"""Tenant-scoped reads of requests_portal data. Views reach these rows only through here;
another agency's object answers 404, the same as a missing one."""

from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import Agency
from requests_portal.models import Department, DepartmentMember


def departments_for(user, agency: Agency) -> QuerySet[Department]:
    if not policy.can(user, agency, policy.DEPARTMENTS_VIEW):
        return Department.objects.none()
    return Department.objects.filter(agency=agency).order_by("name")


def get_department_for(user, agency: Agency, department_id: int) -> Department:
    department = departments_for(user, agency).filter(pk=department_id).first()
    if department is None:
        raise Http404
    return department


def department_members_for(user, agency: Agency, department: Department) -> QuerySet:
    if department.agency_id != agency.pk or not policy.can(user, agency, policy.DEPARTMENTS_VIEW):
        return DepartmentMember.objects.none()
    return (
        DepartmentMember.objects.filter(agency=agency, department=department)
        .select_related("user")
        .order_by("user__email")
    )
