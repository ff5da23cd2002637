"""Who may open which staff page: the permission matrix over every URL, outsiders, query
counts and escaping.

The matrix is built from the URL configuration itself, so a staff view added without
``@agency_permission(...)`` fails here instead of quietly being open to every member.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.http import Http404, HttpResponseNotAllowed
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, include, path, resolve, reverse

from accounts import policy
from accounts.models import (
    ExternalIdentity,
    IdentityProvider,
    Invitation,
    Membership,
    ProviderKind,
    Role,
)
from accounts.tenancy import agency_context
from requests_portal.models import (
    ClosureReason,
    CustomField,
    Department,
    DepartmentMember,
    Holiday,
    RecordsRequest,
    RequestType,
    ResponseTemplate,
    Task,
    TimeEntry,
    Visibility,
)
from requests_portal.services import submission
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

# --- The URL configuration, walked -----------------------------------------------------------

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern of the project, with the route and converters of all its parents."""

    name: str | None
    route: str
    callback: Callable = field(compare=False)
    converters: dict = field(compare=False, hash=False)

    @property
    def permission(self) -> policy.Permission | None:
        return getattr(self.callback, "required_permission", None)

    @property
    def is_staff(self) -> bool:
        return self.route.startswith("staff/")

    @property
    def parameters(self) -> list[str]:
        return [m["name"] for m in _PARAMETER.finditer(self.route)]

    @property
    def label(self) -> str:
        return self.name or self.route

    @property
    def allowed_methods(self) -> frozenset[str] | None:
        """The HTTP methods the view's outermost ``require_http_methods`` admits, or None
        when the view declares no method restriction there. Found by offering the view a
        method nobody allows: a method guard answers 405 (with Allow) before anything else
        runs; without one, the permission decorator refuses the agency-less probe (404)."""
        probe = RequestFactory().generic("TRACE", "/")
        probe.agency = None
        kwargs = dict.fromkeys(self.parameters, "0")
        try:
            response = self.callback(probe, **kwargs)
        except Http404:
            return None
        if isinstance(response, HttpResponseNotAllowed):
            return frozenset(m.strip() for m in response["Allow"].split(","))
        return None

    @property
    def is_post_only(self) -> bool:
        return self.allowed_methods == frozenset({"POST"})

    def path_with(self, values: dict[str, object]) -> str:
        """The URL path, each parameter turned to text by its own converter."""

        def fill(match: re.Match) -> str:
            name = match["name"]
            converter = self.converters.get(name)
            value = values[name]
            return converter.to_url(value) if converter is not None else str(value)

        return "/" + _PARAMETER.sub(fill, self.route)


def walk(patterns, prefix: str = "", namespace: str = "", converters=None) -> Iterator[Route]:
    converters = converters or {}
    for entry in patterns:
        route = prefix + str(entry.pattern)
        merged = {**converters, **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from walk(entry.url_patterns, route, inner, merged)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name=name, route=route, callback=entry.callback, converters=merged)


def staff_routes_without_permission(routes) -> list[str]:
    return [r.label for r in routes if r.is_staff and r.permission is None]


ALL_ROUTES = list(walk(get_resolver().url_patterns))
# Every route that declares a permission, plus every staff route (one without a declared
# permission then fails its matrix cases as well as the dedicated test below).
MATRIX_ROUTES = [r for r in ALL_ROUTES if r.permission is not None or r.is_staff]
STAFF_ROUTES = [r for r in ALL_ROUTES if r.is_staff]
# Actions (acknowledge a request, remove a holiday...): POST-only views with a permission.
POST_ONLY_ROUTES = [r for r in MATRIX_ROUTES if r.is_post_only]
REQUEST_ACTION_PREFIX = "staff/requests/<number:number>/"
REQUEST_ACTION_ROUTES = [r for r in POST_ONLY_ROUTES if r.route.startswith(REQUEST_ACTION_PREFIX)]

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
            "staff:template_delete",
        ],
        302,
    ),
    "staff:document_link": 303,
    **dict.fromkeys(
        [
            "staff:document_release",
            "staff:document_upload_complete",
            "staff:document_upload_start",
            "staff:holidays_load_defaults",
            "staff:provider_test",
            "staff:request_close",
            "staff:request_due_date",
            "staff:request_extend",
            "staff:request_message",
            "staff:request_pause",
            "staff:request_reopen",
            "staff:request_task_add",
            "staff:request_time_log",
            "staff:request_visibility",
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


# --- Path parameters: real objects of the signed-in user's own agency ------------------------


def _membership_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        return Membership.objects.get(agency=tenant.agency, user=tenant.staff).pk


def _department_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        return Department.objects.get(agency=tenant.agency, name="Clerk").pk


MATRIX_REQUEST_TITLE = "Permission matrix request"


def _request_number(tenant, user=None) -> str:
    """A published request (every staff role sees it) routed to the Clerk department, whose
    member the department admin is: department admins act only on their departments'
    requests, so this is the request each role may act on as far as its role allows."""
    with agency_context(tenant.agency):
        found = RecordsRequest.objects.filter(
            agency=tenant.agency, title=MATRIX_REQUEST_TITLE
        ).first()
        if found is not None:
            return found.number
        clerk = Department.objects.get(agency=tenant.agency, name="Clerk")
        DepartmentMember.objects.get_or_create(
            agency=tenant.agency, department=clerk, user=tenant.department_admin
        )
        records_request = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title=MATRIX_REQUEST_TITLE,
            description="Council minutes, January.",
            contact=submission.Contact(name="Matrix Requester"),
            department=clerk,
            channel="web",
        )
        assert records_request.visibility == Visibility.PUBLISHED
        return records_request.number


def _holiday_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        holiday, _ = Holiday.objects.get_or_create(
            agency=tenant.agency, date=datetime.date(2030, 7, 4), defaults={"name": "Matrix day"}
        )
        return holiday.pk


def _reason_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        reason, _ = ClosureReason.objects.get_or_create(agency=tenant.agency, name="Matrix outcome")
        return reason.pk


def _template_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        template, _ = ResponseTemplate.objects.get_or_create(
            agency=tenant.agency,
            kind="message",
            name="Matrix template",
            defaults={"body": "Hello about {number}."},
        )
        return template.pk


def _type_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        request_type, _ = RequestType.objects.get_or_create(
            agency=tenant.agency,
            name="Matrix type",
            defaults={"response_days": 30, "response_method": "calendar"},
        )
        return request_type.pk


def _field_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        field, _ = CustomField.objects.get_or_create(
            agency=tenant.agency, label="Matrix question", defaults={"kind": "text"}
        )
        return field.pk


def _matrix_request(tenant) -> RecordsRequest:
    _request_number(tenant)  # creates it on first use
    with agency_context(tenant.agency):
        return RecordsRequest.objects.get(agency=tenant.agency, title=MATRIX_REQUEST_TITLE)


def _task_id(tenant, user=None) -> int:
    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        task, _ = Task.objects.get_or_create(
            agency=tenant.agency, request=records_request, title="Matrix task"
        )
        return task.pk


def _entry_id(tenant, user=None) -> int:
    """A time entry of the signed-in user's own (correcting others' needs more)."""
    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        entry, _ = TimeEntry.objects.get_or_create(
            agency=tenant.agency,
            request=records_request,
            user=user if user is not None else tenant.staff,
            defaults={"day": datetime.date(2026, 1, 5), "minutes": 30},
        )
        return entry.pk


def _provider(tenant) -> IdentityProvider:
    with agency_context(tenant.agency):
        provider, _ = IdentityProvider.objects.get_or_create(
            agency=tenant.agency,
            name="Matrix LDAP",
            defaults={
                "kind": ProviderKind.LDAP,
                "settings": {
                    "server_uri": "ldap://127.0.0.1:9",
                    "bind_dn": "cn=bind",
                    "user_search_base": "dc=example,dc=org",
                    "user_filter": "(uid=%(user)s)",
                },
            },
        )
        return provider


def _provider_id(tenant, user=None) -> int:
    return _provider(tenant).pk


def _invitation_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        invitation, _ = Invitation.objects.get_or_create(
            agency=tenant.agency,
            email="matrix-invitee@example.org",
            defaults={
                "role": Role.STAFF,
                "token_digest": "0" * 64,
                "expires_at": datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
            },
        )
        return invitation.pk


def _identity_id(tenant, user=None) -> int:
    provider = _provider(tenant)
    with agency_context(tenant.agency):
        identity, _ = ExternalIdentity.objects.get_or_create(
            agency=tenant.agency, provider=provider, subject="matrix", user=tenant.staff
        )
        return identity.pk


def _kind(tenant, user=None) -> str:
    return ProviderKind.OIDC


MATRIX_DOCUMENT = "matrix.pdf"


def _document(tenant):
    from documents.models import Document
    from tests.documents.helpers import pdf_with_text, stored_document

    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        found = Document.objects.filter(agency=tenant.agency, filename=MATRIX_DOCUMENT).first()
    if found is not None:
        return found
    return stored_document(records_request, pdf_with_text("Matrix page"), filename=MATRIX_DOCUMENT)


def _document_id(tenant, user=None):
    return _document(tenant).public_id


def _reason(tenant):
    from documents.models import RedactionReason

    with agency_context(tenant.agency):
        reason, _ = RedactionReason.objects.get_or_create(agency=tenant.agency, label="Matrix")
        return reason


def _reason_id_documents(tenant, user=None) -> int:
    return _reason(tenant).pk


def _finding_id(tenant, user=None) -> int:
    from documents.models import Finding

    document = _document(tenant)
    with agency_context(tenant.agency):
        finding, _ = Finding.objects.get_or_create(
            agency=tenant.agency,
            document=document,
            kind="email",
            location="page 1",
            defaults={"excerpt": "m***@example.org", "value_digest": "0" * 64, "page": 1},
        )
        return finding.pk


def _redaction_id(tenant, user=None) -> int:
    from documents.models import Redaction

    document = _document(tenant)
    reason = _reason(tenant)
    with agency_context(tenant.agency):
        row, _ = Redaction.objects.get_or_create(
            agency=tenant.agency,
            document=document,
            page=1,
            defaults={"x0": 10, "y0": 10, "x1": 100, "y1": 40, "reason": reason},
        )
        return row.pk


def _one(tenant, user=None) -> int:
    return 1


def _upload_id(tenant, user=None):
    """An upload in progress of the user making the request (uploads are their uploader's)."""
    from documents.upload import services as document_services

    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        upload = document_services.upload_start(
            records_request=records_request,
            filename="matrix.pdf",
            size=10,
            actor=user if user is not None and user.is_authenticated else tenant.staff,
        )
        return upload.public_id


PARAMETER_VALUES: dict[str, Callable] = {
    "membership_id": _membership_id,
    "department_id": _department_id,
    "number": _request_number,
    "holiday_id": _holiday_id,
    "reason_id": _reason_id,
    "template_id": _template_id,
    "type_id": _type_id,
    "field_id": _field_id,
    "task_id": _task_id,
    "entry_id": _entry_id,
    "provider_id": _provider_id,
    "invitation_id": _invitation_id,
    "identity_id": _identity_id,
    "kind": _kind,
    "document_id": _document_id,
    "finding_id": _finding_id,
    "redaction_id": _redaction_id,
    "version": _one,
    "page": _one,
    "redaction_reason_id": _reason_id_documents,
    "upload_id": _upload_id,
    "index": _one,
}


def url_for(route: Route, tenant, user=None) -> str:
    """The route's URL with objects of ``tenant`` (``user``'s own where that matters)."""
    missing = [p for p in route.parameters if p not in PARAMETER_VALUES]
    assert not missing, (
        f"{route.label}: no test value for path parameter(s) {missing}; "
        "add them to PARAMETER_VALUES"
    )
    url = route.path_with({p: PARAMETER_VALUES[p](tenant, user) for p in route.parameters})
    assert resolve(url).func is route.callback, f"{url} does not resolve to {route.label}"
    return url


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


def _request(client, route: Route, url: str):
    """POST-only views get an empty POST; every other page a GET."""
    return client.post(url, {}) if route.is_post_only else client.get(url)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", MATRIX_ROUTES, ids=lambda r: r.label)
def test_permission_matrix_answers_by_role(route, persona, tenant, client_for):
    permission = route.permission
    assert permission is not None, f"{route.label} is a staff URL without a required_permission"
    user = getattr(tenant, persona, None)
    url = url_for(route, tenant, user)

    if persona == "anonymous":
        response = _request(client_for(None, tenant.host), route, url)
        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert target.path == reverse("accounts:login")
        assert parse_qs(target.query) == {"next": [url]}
        return

    if persona == "requester":
        response = _request(client_for(tenant.requester, tenant.host), route, url)
        assert_portal_404(response)
        return

    role = ROLE_PERSONAS[persona]
    response = _request(client_for(user, tenant.host), route, url)
    if not policy.role_has(role, permission):
        assert response.status_code == 403
        assert "You can't do that" in response.content.decode()
        return

    if route.is_post_only:
        # Allowed: the action ran (a redirect back to the staff page it belongs to) or its
        # empty form was refused (the page again with the errors); never 403 or 404.
        assert response.status_code == POST_ACTION_STATUS[route.label], response.status_code
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
        assert response.status_code == POST_ACTION_STATUS[route.label], response.status_code
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
    response = _request(client_for(outsider, tenant.host), route, url_for(route, tenant))
    assert_portal_404(response)


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_outsider_admin_gets_404_on_another_agency_host_even_with_own_ids(
    route, tenant, other_tenant, outsider, client_for
):
    response = _request(client_for(outsider, tenant.host), route, url_for(route, other_tenant))
    assert_portal_404(response)


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_staff_urls_answer_404_on_the_platform_host(route, tenant, settings, client_for):
    client = client_for(tenant.admin, settings.PORTAL_BASE_DOMAIN)
    response = _request(client, route, url_for(route, tenant))
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

    own = client.get(reverse(url_name, kwargs={parameter: own_id}))
    foreign = client.get(reverse(url_name, kwargs={parameter: foreign_id}))
    missing = client.get(reverse(url_name, kwargs={parameter: _NEVER_AN_ID}))

    assert own.status_code == 200
    assert_portal_404(foreign)
    assert (foreign.status_code, page_body(foreign)) == (missing.status_code, page_body(missing))


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
    department_id = _department_id(tenant)
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
