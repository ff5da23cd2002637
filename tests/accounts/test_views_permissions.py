"""Who may open which staff page: the permission matrix over every URL, outsiders, query
counts and escaping.

The matrix is built from the URL configuration itself, so a staff view added without
``@agency_permission(...)`` fails here instead of quietly being open to every member.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from accounts import policy
from accounts.models import Role
from accounts.tenancy import agency_context
from requests_portal.models import DepartmentMember
from tests.accounts.route_matrix import (
    ALL_ROUTES,
    MATRIX_REQUEST_TITLE,
    MATRIX_ROUTES,
    PARAMETER_VALUES,
    POST_ONLY_ROUTES,
    REQUEST_ACTION_ROUTES,
    STAFF_ROUTES,
    Route,
    url_for,
    visit_route,
    walk,
)
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

# --- What the matrix expects ----------------------------------------------------------------


def staff_routes_without_permission(routes) -> list[str]:
    return [r.label for r in routes if r.is_staff and r.permission is None]


# What each POST-only action answers a member allowed to use it, posting the matrix's empty
# form: it ran and sent the browser back to its staff page (302), it issued a download link
# (303), or it refused the empty form and showed the page again with the errors (400).
POST_ACTION_STATUS = {
    **dict.fromkeys(
        [
            "staff:closure_reason_toggle",
            "staff:custom_field_toggle",
            "staff:department_member",
            "staff:document_redact_finalise",
            "staff:document_upload_cancel",
            "staff:finding_resolve",
            "staff:holiday_remove",
            "staff:invitation_resend",
            "staff:invitation_revoke",
            "staff:member_deactivate",
            "staff:member_identity_unlink",
            "staff:member_reactivate",
            "staff:member_sessions_end",
            "staff:member_unlock",
            "staff:provider_delete",
            "staff:redaction_reason_retire",
            "staff:redaction_remove",
            "staff:request_acknowledge",
            "staff:request_documents_release",
            "staff:request_resume",
            "staff:request_route",
            "staff:request_tags",
            "staff:request_task_done",
            "staff:request_time_update",
            "staff:request_type_toggle",
            "staff:support_grant_approve",
            "staff:support_grant_deny",
            "staff:support_grant_revoke",
            "staff:template_delete",
            "billing:fee_item_toggle",
            "billing:staff_rate_remove",
            "billing:invoice_new",
            "billing:invoice_line_remove",
            "billing:invoice_staff_time",
            "billing:invoice_note",
            "billing:invoice_send",
            "billing:invoice_refund",
            "billing:stripe_disconnect",
            "staff:webhook_active",
            "staff:webhook_delete",
            "staff:webhook_resend",
            "api_tokens_staff:revoke",
        ],
        302,
    ),
    # A new signing secret: shown once, on the page the post answers with.
    "staff:webhook_rotate": 200,
    "staff:document_link": 303,
    **dict.fromkeys(
        [
            "staff:document_release",
            "staff:document_upload_complete",
            "staff:document_upload_start",
            "staff:holidays_load_defaults",
            "staff:provider_test",
            "staff:request_close",
            "staff:request_description_review",
            "staff:request_due_date",
            "staff:request_extend",
            "staff:request_message",
            "staff:request_pause",
            "staff:request_reopen",
            "staff:request_task_add",
            "staff:request_time_log",
            "staff:request_visibility",
            "billing:fee_item_new",
            "billing:staff_rate_new",
            "billing:invoice_line_add",
            "billing:invoice_deposit",
            "billing:invoice_waiver",
            "billing:invoice_void",
            "billing:invoice_payment",
        ],
        400,
    ),
}

KNOWN_STAFF_PAGES = {
    "staff:staff_dashboard",
    "staff:member_list",
    "staff:member_detail",
    "staff:department_list",
    "staff:department_detail",
    "staff:audit_log",
    "staff:audit_export",
    "staff:audit_export_jsonl",
    "staff:audit_event",
    "staff:request_queue",
    "staff:request_new",
    "staff:request_detail",
    "staff:member_invite",
    "staff:member_role",
    "staff:member_mfa_reset",
    "staff:signin_settings",
    "staff:provider_new",
    "staff:provider_edit",
}
# Every action on one request, under staff/requests/<number>/<action>/.
KNOWN_REQUEST_ACTIONS = {
    "staff:request_acknowledge",
    "staff:request_message",
    "staff:request_route",
    "staff:request_pause",
    "staff:request_resume",
    "staff:request_extend",
    "staff:request_due_date",
    "staff:request_close",
    "staff:request_reopen",
    "staff:request_visibility",
}


# --- Helpers ---------------------------------------------------------------------------------

ROLE_PERSONAS = {
    "admin": Role.ADMIN,
    "department_admin": Role.DEPARTMENT_ADMIN,
    "publisher": Role.PUBLISHER,
    "staff": Role.STAFF,
}
PERSONAS = [*ROLE_PERSONAS, "requester", "anonymous"]

_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def page_body(response) -> str:
    """The rendered page, with the per-render masking of the CSRF token taken out (the same
    session secret is masked with a fresh random salt on every render)."""
    return _CSRF_VALUE.sub(r"\1\2", response.content.decode())


def assert_portal_404(response) -> None:
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def is_csv_export(route: Route) -> bool:
    return route.route.endswith(".csv")


# --- The guard over the URL configuration ----------------------------------------------------


def test_url_walk_finds_every_known_staff_page():
    names = {r.name for r in STAFF_ROUTES}
    assert names >= KNOWN_STAFF_PAGES, f"missing: {KNOWN_STAFF_PAGES - names}"


def test_every_staff_url_declares_a_required_permission():
    assert staff_routes_without_permission(ALL_ROUTES) == []


def test_permission_guard_flags_a_staff_view_without_declared_permission():
    def undeclared(request):  # pragma: no cover - never called
        raise AssertionError

    patterns = [path("staff/", include(([path("open/", undeclared, name="open")], "staff")))]
    assert staff_routes_without_permission(walk(patterns)) == ["staff:open"]


def test_every_request_action_is_found_as_a_post_only_view():
    # Guards the method probe: if it stopped recognising require_POST, the action views
    # would silently be tested with GET like pages (and answer 405 for every persona).
    names = {r.name for r in REQUEST_ACTION_ROUTES}
    assert names >= KNOWN_REQUEST_ACTIONS, f"not POST-only: {KNOWN_REQUEST_ACTIONS - names}"


def test_pages_are_not_mistaken_for_post_only_views():
    by_name = {r.name: r for r in MATRIX_ROUTES}
    assert by_name["staff:request_detail"].allowed_methods == {"GET", "HEAD"}
    assert by_name["staff:request_new"].allowed_methods == {"GET", "HEAD", "POST"}
    assert by_name["staff:audit_log"].allowed_methods is None
    assert not any(by_name[name].is_post_only for name in KNOWN_STAFF_PAGES)


def test_every_path_parameter_of_the_matrix_has_a_test_value():
    unknown = {
        (r.label, p) for r in MATRIX_ROUTES for p in r.parameters if p not in PARAMETER_VALUES
    }
    assert unknown == set()


# --- The matrix: every (url, persona) --------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", MATRIX_ROUTES, ids=lambda r: r.label)
def test_permission_matrix_answers_by_role(route, persona, tenant, client_for):
    permission = route.permission
    assert permission is not None, f"{route.label} is a staff URL without a required_permission"
    user = getattr(tenant, persona, None)
    url = url_for(route, tenant, user)

    if persona == "anonymous":
        response = visit_route(client_for(None, tenant.host), route, url)
        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert target.path == reverse("accounts:login")
        assert parse_qs(target.query) == {"next": [url]}
        return

    if persona == "requester":
        response = visit_route(client_for(tenant.requester, tenant.host), route, url)
        assert_portal_404(response)
        return

    role = ROLE_PERSONAS[persona]
    response = visit_route(client_for(user, tenant.host), route, url)
    if not policy.role_has(role, permission):
        assert response.status_code == 403
        assert "You can't do that" in response.content.decode()
        return

    if route.is_post_only:
        # Allowed: the action ran (a redirect back to the staff page it belongs to) or its
        # empty form was refused (the page again with the errors); never 403 or 404.
        expected = POST_ACTION_STATUS.get(route.label)
        assert response.status_code == expected, (route.label, response.status_code)
        if response.status_code == 303:
            # A download link: issued, then the browser fetches it (documents).
            assert response["Location"].startswith("/documents/download/")
        elif response.status_code == 302:
            location = response["Location"]
            if route in REQUEST_ACTION_ROUTES:
                # Back to the request, or to one of its pages (its documents).
                number = PARAMETER_VALUES["number"](tenant)
                assert location.startswith(reverse("staff:request_detail", args=[number]))
            assert location.startswith("/staff/"), location
        else:
            assert response["Content-Type"].startswith("text/html")
            if route in REQUEST_ACTION_ROUTES:  # the request's staff page, with the form
                assert MATRIX_REQUEST_TITLE in response.content.decode()
        return

    assert response.status_code == 200
    if route.route.endswith(".png"):
        assert response["Content-Type"] == "image/png"
        return
    if is_csv_export(route):
        assert response["Content-Type"].startswith("text/csv")
        body = b"".join(response.streaming_content).decode()
        assert body.startswith("id,time_utc,action,")
    elif route.route.endswith(".jsonl"):
        assert response["Content-Type"].startswith("application/jsonl")
        body = b"".join(response.streaming_content).decode()
        assert body.startswith('{"agency":')
    elif route.route.endswith(".pem"):
        assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    elif route.route.endswith(".py"):
        assert response.content.startswith(b'"""') and b"def main(" in response.content
    else:
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("persona", [*ROLE_PERSONAS, "requester"])
@pytest.mark.parametrize("route", POST_ONLY_ROUTES, ids=lambda r: r.label)
def test_post_only_actions_answer_get_with_405(route, persona, tenant, client_for):
    url = url_for(route, tenant)
    response = client_for(getattr(tenant, persona), tenant.host).get(url)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def _department_admin_scope_cases():
    for route in REQUEST_ACTION_ROUTES:
        yield pytest.param(route, id=route.label)


@pytest.mark.parametrize("route", list(_department_admin_scope_cases()))
def test_department_admin_outside_the_request_departments_acts_only_as_staff_would(
    route, tenant, client_for
):
    # Department admins hold the publisher's permissions on their own departments' requests
    # only; on the others they keep what every staff member has.
    url = url_for(route, tenant, tenant.department_admin)
    with agency_context(tenant.agency):
        DepartmentMember.objects.filter(agency=tenant.agency, user=tenant.department_admin).delete()
    response = client_for(tenant.department_admin, tenant.host).post(url, {})
    if policy.role_has(Role.STAFF, route.permission):
        expected = POST_ACTION_STATUS.get(route.label)
        assert response.status_code == expected, (route.label, response.status_code)
    else:
        assert response.status_code == 403
        assert "You can't do that" in response.content.decode()


def test_every_post_only_action_has_its_expected_answer():
    # A new POST-only action needs its entry in POST_ACTION_STATUS; a removed one loses it.
    assert set(POST_ACTION_STATUS) == {r.label for r in POST_ONLY_ROUTES}


def test_matrix_covers_both_allowed_and_refused_members():
    # Guards the matrix against turning vacuous: some staff page must refuse some role.
    outcomes = {
        policy.role_has(role, r.permission)
        for r in MATRIX_ROUTES
        for role in ROLE_PERSONAS.values()
    }
    assert outcomes == {True, False}


# --- Outsiders -------------------------------------------------------------------------------


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_outsider_admin_gets_404_on_every_staff_url_of_another_agency(
    route, tenant, outsider, client_for
):
    response = visit_route(client_for(outsider, tenant.host), route, url_for(route, tenant))
    assert_portal_404(response)


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_outsider_admin_gets_404_on_another_agency_host_even_with_own_ids(
    route, tenant, other_tenant, outsider, client_for
):
    response = visit_route(client_for(outsider, tenant.host), route, url_for(route, other_tenant))
    assert_portal_404(response)


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_staff_urls_answer_404_on_the_platform_host(route, tenant, settings, client_for):
    client = client_for(tenant.admin, settings.PORTAL_BASE_DOMAIN)
    response = visit_route(client, route, url_for(route, tenant))
    assert_portal_404(response)


_NEVER_AN_ID = 10**12


@pytest.mark.parametrize(
    ("url_name", "parameter"),
    [("staff:member_detail", "membership_id"), ("staff:department_detail", "department_id")],
)
def test_other_agency_object_id_answers_exactly_like_a_missing_one(
    url_name, parameter, tenant, other_tenant, client_for
):
    foreign_id = PARAMETER_VALUES[parameter](other_tenant)
    own_id = PARAMETER_VALUES[parameter](tenant)
    assert foreign_id != own_id
    client = client_for(tenant.admin, tenant.host)

    foreign_url = reverse(url_name, kwargs={parameter: foreign_id})
    missing_url = reverse(url_name, kwargs={parameter: _NEVER_AN_ID})
    own = client.get(reverse(url_name, kwargs={parameter: own_id}))
    foreign = client.get(foreign_url)
    missing = client.get(missing_url)

    assert own.status_code == 200
    assert_portal_404(foreign)
    # Alike but for the address itself, which the page echoes (the language switch's "next").
    assert (foreign.status_code, page_body(foreign).replace(foreign_url, "URL")) == (
        missing.status_code,
        page_body(missing).replace(missing_url, "URL"),
    )


@pytest.mark.parametrize(
    ("url_name", "parameter"),
    [("staff:member_detail", "membership_id"), ("staff:department_detail", "department_id")],
)
def test_id_beyond_the_database_integer_range_answers_404(url_name, parameter, tenant, client_for):
    response = client_for(tenant.admin, tenant.host).get(
        reverse(url_name, kwargs={parameter: 10**30})
    )
    assert_portal_404(response)


def test_other_agency_member_is_not_listed_on_the_members_page(tenant, other_tenant, client_for):
    body = client_for(tenant.admin, tenant.host).get(reverse("staff:member_list")).content
    assert tenant.staff.email.encode() in body
    assert other_tenant.staff.email.encode() not in body
    assert other_tenant.admin.email.encode() not in body


def test_other_agency_department_is_not_listed_on_the_departments_page(
    tenant, other_tenant, client_for
):
    with agency_context(other_tenant.agency):
        DepartmentFactory(agency=other_tenant.agency, name="Bravo Harbour Office")
    body = client_for(tenant.admin, tenant.host).get(reverse("staff:department_list")).content
    assert b"Clerk" in body
    assert b"Bravo Harbour Office" not in body


# --- Query discipline ------------------------------------------------------------------------

# A signed-in staff page costs: the session, the user, the membership, the RLS set_config
# calls and savepoints, the page's own rows and the audit event of the visit.
MAX_QUERIES_PER_PAGE = 20


def _add_members(tenant, count: int) -> list:
    with agency_context(tenant.agency):
        return [
            MembershipFactory(agency=tenant.agency, user=UserFactory(), role=Role.STAFF).user
            for _ in range(count)
        ]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_members_list_uses_a_bounded_number_of_queries(
    tenant, client_for, django_assert_max_num_queries
):
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:member_list")
    client.get(url)  # warm per-process caches

    with django_assert_max_num_queries(MAX_QUERIES_PER_PAGE):
        assert client.get(url).status_code == 200


def test_members_list_query_count_does_not_grow_with_ten_more_members(
    tenant, client_for, django_assert_num_queries
):
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:member_list")
    client.get(url)
    before = _count_queries(client, url)

    added = _add_members(tenant, 10)

    with django_assert_num_queries(before):
        response = client.get(url)
    body = response.content.decode()
    assert all(user.email in body for user in added)


def test_departments_list_uses_a_bounded_number_of_queries(
    tenant, client_for, django_assert_max_num_queries
):
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:department_list")
    client.get(url)

    with django_assert_max_num_queries(MAX_QUERIES_PER_PAGE):
        assert client.get(url).status_code == 200


def test_departments_list_query_count_does_not_grow_with_ten_more_departments_and_members(
    tenant, client_for, django_assert_num_queries
):
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:department_list")
    client.get(url)
    before = _count_queries(client, url)

    _add_members(tenant, 10)
    with agency_context(tenant.agency):
        names = [DepartmentFactory(agency=tenant.agency).name for _ in range(10)]

    with django_assert_num_queries(before):
        response = client.get(url)
    body = response.content.decode()
    assert all(name in body for name in names)


def test_department_detail_query_count_does_not_grow_with_ten_more_people(
    tenant, client_for, django_assert_num_queries
):
    department_id = PARAMETER_VALUES["department_id"](tenant)
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:department_detail", kwargs={"department_id": department_id})
    client.get(url)
    before = _count_queries(client, url)
    assert before <= MAX_QUERIES_PER_PAGE

    added = _add_members(tenant, 10)
    with agency_context(tenant.agency):
        for user in added:
            DepartmentMember.objects.create(
                agency=tenant.agency, department_id=department_id, user=user
            )

    with django_assert_num_queries(before):
        response = client.get(url)
    body = response.content.decode()
    assert all(user.email in body for user in added)


# --- Escaping --------------------------------------------------------------------------------

_SCRIPT = "<script>alert(1)</script>"
_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def script_named_member(tenant):
    with agency_context(tenant.agency):
        return MembershipFactory(
            agency=tenant.agency, user=UserFactory(full_name=_SCRIPT), role=Role.STAFF
        )


def test_member_full_name_is_escaped_on_the_members_list(tenant, script_named_member, client_for):
    body = client_for(tenant.admin, tenant.host).get(reverse("staff:member_list")).content.decode()
    assert _ESCAPED in body
    assert _SCRIPT not in body
    assert "<script" not in body


def test_member_full_name_is_escaped_on_the_member_page(tenant, script_named_member, client_for):
    url = reverse("staff:member_detail", kwargs={"membership_id": script_named_member.pk})
    response = client_for(tenant.admin, tenant.host).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert _ESCAPED in body
    assert "<script" not in body
