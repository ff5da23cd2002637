"""Templates ask the policy module (``can``, from accounts.context_processors), never a role:
a staff link shows exactly when the page it opens lets the person in."""

from __future__ import annotations

import re

import pytest
from django.urls import resolve, reverse

from accounts import policy
from accounts.models import Role

ROLE_PERSONAS = {
    "admin": Role.ADMIN,
    "department_admin": Role.DEPARTMENT_ADMIN,
    "publisher": Role.PUBLISHER,
    "staff": Role.STAFF,
}
# Every staff page the dashboard may link to (templates/accounts/staff_dashboard.html).
DASHBOARD_PAGES = (
    "staff:request_queue",
    "staff:department_list",
    "staff:notifications",
    "staff:templates",
    "staff:member_list",
    "staff:settings",
    "staff:holidays",
    "staff:closure_reasons",
    "staff:department_new",
    "staff:request_types",
    "staff:custom_fields",
    "staff:report",
    "staff:audit_log",
    "billing:stripe_connect",
    "staff:signin_settings",
    "staff:contact_settings",
    "staff:document_settings",
    "staff:support_access",
    "billing:fee_schedule",
    "billing:fee_report",
    "staff:webhook_list",
    "staff:mailbox_settings",
)
_LINK = re.compile(r'href="([^"]+)"')


def _links_in(html: str, start: str, end: str) -> set[str]:
    """The links of the page's content between two markers (not the site's navigation)."""
    body = html[html.index(start) :]
    return set(_LINK.findall(body[: body.index(end)]))


def _required_permission(path: str) -> policy.Permission:
    return resolve(path).func.required_permission


@pytest.mark.parametrize("persona", ROLE_PERSONAS)
def test_the_staff_dashboard_links_exactly_the_pages_the_role_may_open(persona, tenant, client_for):
    role = ROLE_PERSONAS[persona]
    client = client_for(getattr(tenant, persona), tenant.host)
    page = client.get(reverse("staff:staff_dashboard"))
    assert page.status_code == 200
    shown = _links_in(page.content.decode(), "<h1>Staff area</h1>", "</ul>")

    for name in DASHBOARD_PAGES:
        path = reverse(name)
        # The same permission the page's @agency_permission requires...
        allowed = policy.role_has(role, _required_permission(path))
        assert (path in shown) == allowed, (persona, name)
        # ...and the page itself agrees: it opens exactly when its link is shown.
        assert client.get(path).status_code == (200 if allowed else 403), (persona, name)
    assert shown - {reverse(name) for name in DASHBOARD_PAGES} == {reverse("accounts:security")}


def test_the_dashboard_shows_some_roles_fewer_links_than_others(tenant, client_for):
    # Guards the test above against turning vacuous (every role seeing every link).
    counts = set()
    for persona in ROLE_PERSONAS:
        page = client_for(getattr(tenant, persona), tenant.host).get(
            reverse("staff:staff_dashboard")
        )
        counts.add(len(_links_in(page.content.decode(), "<h1>Staff area</h1>", "</ul>")))
    assert len(counts) > 1


@pytest.mark.parametrize("persona", ROLE_PERSONAS)
def test_the_departments_page_offers_adding_one_exactly_to_those_who_may(
    persona, tenant, client_for
):
    client = client_for(getattr(tenant, persona), tenant.host)
    page = client.get(reverse("staff:department_list"))
    assert page.status_code == 200
    add = reverse("staff:department_new")
    allowed = policy.role_has(ROLE_PERSONAS[persona], _required_permission(add))
    assert (add in _links_in(page.content.decode(), "<h1>Departments</h1>", "</ul>")) == allowed
    assert client.get(add).status_code == (200 if allowed else 403)


def test_can_names_every_permission_of_the_policy():
    assert set(policy.PERMISSIONS_BY_NAME.values()) == set(policy.ALL_PERMISSIONS)
    assert policy.PERMISSIONS_BY_NAME["templates_manage"] is policy.TEMPLATES_MANAGE
