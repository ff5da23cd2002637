"""Department access helpers: one agency's departments only, and only for its staff."""

import pytest
from django.http import Http404

from accounts.tenancy import agency_context
from requests_portal import access
from requests_portal.models import Department

pytestmark = pytest.mark.django_db


def test_staff_see_their_own_agency_departments(tenant, other_tenant):
    with agency_context(tenant.agency):
        names = list(access.departments_for(tenant.staff, tenant.agency).values_list("name"))
    assert names == [("Clerk",)]


@pytest.mark.parametrize("who", ["requester", "outsider"])
def test_requesters_and_outsiders_see_no_departments(tenant, other_tenant, who):
    user = tenant.requester if who == "requester" else other_tenant.admin
    with agency_context(tenant.agency):
        assert not access.departments_for(user, tenant.agency).exists()
        department = Department.objects.get(agency=tenant.agency)
        with pytest.raises(Http404):
            access.get_department_for(user, tenant.agency, department.pk)


def test_another_agency_department_is_missing_not_forbidden(tenant, other_tenant):
    with agency_context(other_tenant.agency):
        theirs = Department.objects.get(agency=other_tenant.agency)
    with agency_context(tenant.agency), pytest.raises(Http404):
        access.get_department_for(tenant.admin, tenant.agency, theirs.pk)


def test_department_members_of_another_agency_department_are_empty(tenant, other_tenant):
    with agency_context(other_tenant.agency):
        theirs = Department.objects.get(agency=other_tenant.agency)
    with agency_context(tenant.agency):
        assert list(access.department_members_for(tenant.admin, tenant.agency, theirs)) == []
