"""The agency's departments, invoices, audit events and people through the API: the web's
policy, access helpers, services and audit events; another agency's ids are 404, a role
without the permission 403, a visitor who is not signed in 401, all in the one error shape;
personal tokens need the endpoint's scope and no session's two-factor."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from accounts import audit_events as accounts_events
from accounts.models import Membership, Role
from accounts.signin import flow
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal import audit_events
from requests_portal.models import Department, RecordsRequest, Visibility
from requests_portal.services import agency_settings, submission
from tests.api.helpers import api_client, make_token
from tests.conftest import mark_fully_signed_in

pytestmark = pytest.mark.django_db


def _json(response) -> dict:
    return json.loads(response.content)


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    error = _json(response)["error"]
    assert error["status"] == status and error["message"]
    return error


def _filed(tenant) -> RecordsRequest:
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        r = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Road repair contracts",
            description="Every road repair contract of 2025.",
            contact=submission.Contact(name="A Resident", email="resident@example.org"),
            channel="web",
        )
        RecordsRequest.objects.filter(pk=r.pk).update(visibility=Visibility.ALL_STAFF)
        return RecordsRequest.objects.get(pk=r.pk)


def _events(tenant, action: str) -> list[AuditEvent]:
    with agency_context(tenant.agency):
        return list(AuditEvent.objects.filter(agency=tenant.agency, action=action))


def _department(tenant) -> Department:
    with agency_context(tenant.agency):
        return Department.objects.get(agency=tenant.agency, name="Clerk")


# --- Departments -----------------------------------------------------------------------------


def test_staff_read_departments_and_admins_create_them(client_for, tenant):
    staff = client_for(tenant.staff, tenant.host)
    listed = staff.get("/api/v1/departments/")
    assert listed.status_code == 200
    assert [d["name"] for d in _json(listed)] == ["Clerk"]
    refused = staff.post("/api/v1/departments/", {"name": "Parks"}, content_type="application/json")
    _error(refused, 403)

    admin = client_for(tenant.admin, tenant.host)
    created = admin.post(
        "/api/v1/departments/", {"name": "  Parks  "}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert _json(created)["name"] == "Parks" and _json(created)["members"] == []
    changes = [e.details for e in _events(tenant, audit_events.SETTINGS_CHANGED.code)]
    assert any(d.get("what") == "department_created" for d in changes), changes
    duplicate = admin.post(
        "/api/v1/departments/", {"name": "parks"}, content_type="application/json"
    )
    assert "name" in _error(duplicate, 400)["fields"]
    renamed = admin.patch(
        f"/api/v1/departments/{_json(created)['id']}/",
        {"name": "Parks and Trails"},
        content_type="application/json",
    )
    assert renamed.status_code == 200 and _json(renamed)["name"] == "Parks and Trails"


def test_departments_are_closed_to_outsiders_and_visitors(client_for, tenant, other_tenant):
    theirs = _department(other_tenant)
    admin = client_for(tenant.admin, tenant.host)
    assert _error(admin.get(f"/api/v1/departments/{theirs.pk}/"), 404)["code"] == "not_found"
    _error(client_for(other_tenant.admin, tenant.host).get("/api/v1/departments/"), 404)
    _error(Client(HTTP_HOST=tenant.host).get("/api/v1/departments/"), 401)
    _error(client_for(tenant.requester, tenant.host).get("/api/v1/departments/"), 404)


def test_a_token_needs_the_scope_and_no_session_two_factor(tenant, other_tenant):
    """The admin's agency requires two-factor: a token (made after a fresh check) works
    without a session; only with the endpoint's scope; never on another agency's site."""
    _row, scoped = make_token(tenant.admin, tenant.agency, scopes=["departments:read"])
    client = api_client(scoped, tenant.host)
    assert client.get("/api/v1/departments/").status_code == 200
    _error(client.get("/api/v1/people/"), 403)  # users:read not granted
    _error(client.get("/api/v1/audit-events/"), 403)  # audit:read not granted
    refused = client.post("/api/v1/departments/", {"name": "X"}, content_type="application/json")
    _error(refused, 403)  # departments:write not granted
    assert api_client(scoped, other_tenant.host).get("/api/v1/departments/").status_code == 401


def test_csrf_is_enforced_for_the_browser_session(tenant):
    client = Client(HTTP_HOST=tenant.host, enforce_csrf_checks=True)
    client.force_login(tenant.admin)
    mark_fully_signed_in(client)
    response = client.post(
        "/api/v1/departments/", {"name": "Parks"}, content_type="application/json"
    )
    assert "CSRF" in _error(response, 403)["message"]
    assert client.get("/api/v1/departments/").status_code == 200  # safe methods need no token


def test_an_agency_requiring_two_factor_refuses_a_session_without_it(client_for, tenant):
    tenant.agency.mfa_required_for_staff = True
    tenant.agency.save(update_fields=["mfa_required_for_staff"])
    response = client_for(tenant.staff, tenant.host, second_factor=False).get(
        "/api/v1/departments/"
    )
    assert "two-factor" in _error(response, 403)["message"]


# --- Invoices --------------------------------------------------------------------------------


def test_publishers_start_invoices_staff_read_them(client_for, tenant, other_tenant):
    r = _filed(tenant)
    staff = client_for(tenant.staff, tenant.host)
    body = {"request": r.number}
    _error(staff.post("/api/v1/invoices/", body, content_type="application/json"), 403)
    publisher = client_for(tenant.publisher, tenant.host)
    created = publisher.post("/api/v1/invoices/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    invoice = _json(created)
    assert invoice["request_number"] == r.number and invoice["status"] == "draft"
    assert isinstance(invoice["total_cents"], int) and invoice["currency"] == "usd"
    again = publisher.post("/api/v1/invoices/", body, content_type="application/json")
    assert "open invoice" in _error(again, 400)["fields"]["request"][0]

    listed = _json(staff.get(f"/api/v1/invoices/?request={r.number}"))
    assert [i["id"] for i in listed["results"]] == [invoice["id"]]
    assert staff.get(f"/api/v1/invoices/{invoice['id']}/").status_code == 200
    _error(client_for(other_tenant.admin, tenant.host).get("/api/v1/invoices/"), 404)
    outsider_view = client_for(other_tenant.admin, other_tenant.host)
    _error(outsider_view.get(f"/api/v1/invoices/{invoice['id']}/"), 404)
    _error(outsider_view.post("/api/v1/invoices/", body, content_type="application/json"), 404)


@pytest.mark.parametrize("query", ["status=owed", "request=abc", "after=x", "page_size=500"])
def test_invoice_filters_are_checked(client_for, tenant, query):
    response = client_for(tenant.staff, tenant.host).get(f"/api/v1/invoices/?{query}")
    assert _error(response, 400)["fields"]


# --- Audit events ----------------------------------------------------------------------------


def test_admins_page_the_audit_log_and_reading_it_is_audited(client_for, tenant, other_tenant):
    admin = client_for(tenant.admin, tenant.host)
    for _ in range(3):
        admin.get("/api/v1/departments/")
    first = admin.get("/api/v1/audit-events/?action=page.view")
    assert first.status_code == 200, first.content
    page = _json(first)
    assert len(page["results"]) >= 3
    assert all(e["action"] == "page.view" for e in page["results"])
    times = [(e["created_at"], e["id"]) for e in page["results"]]
    assert times == sorted(times, reverse=True)
    # The read itself is on the log, naming the API endpoint.
    viewed = [e.details.get("view") for e in _events(tenant, "page.view")]
    assert "api:audit_events" in viewed
    newest = page["results"][0]
    assert admin.get(f"/api/v1/audit-events/{newest['id']}/").status_code == 200
    with agency_context(other_tenant.agency):
        theirs = AuditEvent.objects.filter(agency=other_tenant.agency).first()
    if theirs is not None:
        _error(admin.get(f"/api/v1/audit-events/{theirs.pk}/"), 404)
    _error(client_for(tenant.staff, tenant.host).get("/api/v1/audit-events/"), 403)


def test_audit_log_keyset_pages_follow_time_and_id(client_for, tenant):
    admin = client_for(tenant.admin, tenant.host)
    for _ in range(55):
        admin.get("/api/v1/departments/")
    first = _json(admin.get("/api/v1/audit-events/"))
    assert first["older"] and len(first["results"]) == 50
    second = _json(admin.get(f"/api/v1/audit-events/?before={first['older']}"))
    assert second["results"]
    last_of_first = (first["results"][-1]["created_at"], first["results"][-1]["id"])
    assert all((e["created_at"], e["id"]) < last_of_first for e in second["results"])
    assert not {e["id"] for e in first["results"]} & {e["id"] for e in second["results"]}


@pytest.mark.parametrize(
    "query", ["before=zz", "date_from=2026-13-01", "ip=not-an-ip", "action=no.such.event"]
)
def test_audit_filters_are_checked(client_for, tenant, query):
    response = client_for(tenant.admin, tenant.host).get(f"/api/v1/audit-events/?{query}")
    assert _error(response, 400)["fields"]


# --- People ----------------------------------------------------------------------------------


def _membership(tenant, user) -> Membership:
    with agency_context(tenant.agency):
        return Membership.objects.get(agency=tenant.agency, user=user)


def test_admins_list_members_change_roles_invite_and_deactivate(client_for, tenant):
    admin = client_for(tenant.admin, tenant.host)
    listed = _json(admin.get("/api/v1/people/"))
    assert {p["email"]: p["role"] for p in listed}[tenant.staff.email] == Role.STAFF
    staff_member = _membership(tenant, tenant.staff)
    changed = admin.patch(
        f"/api/v1/people/{staff_member.pk}/", {"role": "publisher"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert _membership(tenant, tenant.staff).role == Role.PUBLISHER
    assert _events(tenant, accounts_events.ROLE_CHANGED.code)

    invited = admin.post(
        "/api/v1/people/invitations/",
        {"email": "new.clerk@example.org", "role": "staff"},
        content_type="application/json",
    )
    assert invited.status_code == 201, invited.content
    assert _events(tenant, accounts_events.USER_INVITED.code)

    ended = admin.post(f"/api/v1/people/{staff_member.pk}/deactivate/")
    assert ended.status_code == 200 and _json(ended)["is_active"] is False
    # Deactivated: the API is closed to them at once.
    _error(client_for(tenant.staff, tenant.host).get("/api/v1/departments/"), 404)


def test_people_rules_are_the_services_rules(client_for, tenant, other_tenant):
    admin_member = _membership(tenant, tenant.admin)
    department_admin = client_for(tenant.department_admin, tenant.host)
    too_high = department_admin.post(
        "/api/v1/people/invitations/",
        {"email": "boss@example.org", "role": "admin"},
        content_type="application/json",
    )
    assert "role" in _error(too_high, 400)["fields"]
    _error(client_for(tenant.staff, tenant.host).get("/api/v1/people/"), 403)
    last_admin = client_for(tenant.admin, tenant.host).post(
        f"/api/v1/people/{admin_member.pk}/deactivate/"
    )
    _error(last_admin, 400)
    theirs = _membership(other_tenant, other_tenant.staff)
    _error(client_for(tenant.admin, tenant.host).get(f"/api/v1/people/{theirs.pk}/"), 404)


def test_a_role_change_needs_a_recent_sign_in(client_for, tenant):
    admin = client_for(tenant.admin, tenant.host)
    session = admin.session
    session[flow.REAUTH_AT] = int(time.time()) - 10 * 24 * 3600
    session.save()
    staff_member = _membership(tenant, tenant.staff)
    response = admin.patch(
        f"/api/v1/people/{staff_member.pk}/", {"role": "publisher"}, content_type="application/json"
    )
    assert "recent sign-in" in _error(response, 403)["message"]


def test_a_body_that_is_not_a_json_object_is_a_400(tenant):
    _row, text = make_token(tenant.admin, tenant.agency)
    client = api_client(text, tenant.host)
    for body in ("true", "[]", "3"):
        response = client.post("/api/v1/people/invitations/", body, content_type="application/json")
        assert _error(response, 400)["message"] == "Send a JSON object."
