"""Pages whose query count does not grow with what they show: the agency home, the request
form, the public request page and the staff request page (issue 15). The archive and the
queue are in test_page_rendering.py.

Each test counts a page's queries, adds rows of what the page lists (staff, departments,
request types, messages, tasks, timeline entries), and asserts the same count again, and
that the new rows are on the page (so the count did not stay flat by leaving them out).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from requests_portal.models import MessageKind, RequestType
from requests_portal.services import lifecycle, messaging, work
from tests.factories import MembershipFactory, UserFactory
from tests.requests_portal.helpers import (
    PLAIN_REASON,
    body_of,
    closure_reason,
    department,
    file_request,
    public_url,
    set_request_settings,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def _queries(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def _add_staff(tenant, count: int, start: int) -> list[str]:
    emails = []
    with agency_context(tenant.agency):
        for n in range(count):
            user = UserFactory(email=f"colleague{start + n}@alpha.test")
            MembershipFactory(agency=tenant.agency, user=user, role=Role.STAFF)
            emails.append(user.email)
    return emails


def _add_request_types(tenant, names: list[str]) -> None:
    with agency_context(tenant.agency):
        for name in names:
            RequestType.objects.create(
                agency=tenant.agency, name=name, response_days=20, response_method="business"
            )


def test_agency_home_reads_no_agency_row_once_the_host_is_known(tenant, client_for):
    client = client_for(None, tenant.host)
    client.get("/")  # the process learns the host's agency

    count, sql = _queries(client, "/")

    assert not [q for q in sql if '"accounts_agency"' in q]
    # Only the row-level-security context: inside a test's transaction, its savepoint, the
    # outer context read and restored around the setting itself.
    assert all("SAVEPOINT" in q or "set_config" in q or "current_setting" in q for q in sql), sql
    assert count <= 5


def test_request_form_query_count_does_not_grow_with_departments_and_types(tenant, client_for):
    set_request_settings(tenant, show_department_picker=True)
    _add_request_types(tenant, ["Kind of request 0"])  # the form asks for a kind from one on
    client = client_for(None, tenant.host)
    url = reverse("request_new")
    client.get(url)
    before, _ = _queries(client, url)

    names = [f"Department {n}" for n in range(6)]
    for name in names:
        department(tenant, name)
    _add_request_types(tenant, [f"Kind of request {n}" for n in range(1, 5)])

    client.get(url)  # the changed form's fields, rendered once and cached again
    after, _ = _queries(client, url)
    body = body_of(client.get(url))
    assert after == before
    assert all(name in body for name in names)
    assert "Kind of request 3" in body


def test_public_request_page_query_count_does_not_grow_with_its_messages(tenant, client_for):
    records_request = file_request(tenant, visibility="published")
    client = client_for(None, tenant.host)
    url = public_url(records_request)
    client.get(url)
    before, _ = _queries(client, url)

    with agency_context(tenant.agency):
        for n in range(5):
            messaging.request_message(
                records_request=records_request,
                actor=tenant.admin,
                kind=MessageKind.PUBLIC_NOTE,
                body=f"Public note number {n}",
            )

    after, _ = _queries(client, url)
    assert after == before
    assert "Public note number 4" in body_of(client.get(url))


def test_staff_request_page_query_count_does_not_grow_with_staff_messages_and_tasks(
    tenant, client_for
):
    records_request = file_request(tenant)
    client = client_for(tenant.admin, tenant.host)
    url = staff_url("detail", records_request)
    client.get(url)
    before, _ = _queries(client, url)

    emails = _add_staff(tenant, 6, 0)
    with agency_context(tenant.agency):
        for n in range(4):
            messaging.request_message(
                records_request=records_request,
                actor=tenant.admin,
                kind=MessageKind.INTERNAL,
                body=f"Internal note number {n}",
            )
            work.task_add(records_request=records_request, actor=tenant.admin, title=f"Task {n}")

    after, sql = _queries(client, url)
    body = body_of(client.get(url))
    assert after == before, "\n".join(sql)
    # Lowered by issue 15's staff page work: the staff list's visibility asked once, the
    # department links read once, the point of contact read with the request, the close form's
    # fields (and its closure reasons) kept.
    assert after <= 26, "\n".join(sql)
    assert all(email in body for email in emails)  # every colleague offered as an assignee
    assert "Internal note number 3" in body and "Task 3" in body
    # Each colleague's membership came with the staff list: none is read on its own.
    assert sum('FROM "accounts_membership"' in q for q in sql) <= 2


def test_public_request_page_reads_each_thing_once(tenant, client_for):
    records_request = file_request(tenant, visibility="published")
    with agency_context(tenant.agency):
        reason = closure_reason(tenant, PLAIN_REASON)
        lifecycle.request_close(records_request=records_request, actor=tenant.admin, reason=reason)
    client = client_for(None, tenant.host)
    url = public_url(records_request)
    client.get(url)  # the agency's request settings are now in the cache

    _, sql = _queries(client, url)
    body = body_of(client.get(url))

    assert PLAIN_REASON in body
    # The closing reason and request type come with the request; the settings (the cut-off)
    # from the cache; the released documents once, for the note and the panel both.
    assert not [q for q in sql if 'FROM "requests_portal_closurereason"' in q]
    assert not [q for q in sql if 'FROM "requests_portal_requesttype"' in q]
    assert not [q for q in sql if "requests_portal_requestsettings" in q]
    assert sum(q.startswith('SELECT "documents_document".') for q in sql) == 1
    assert sum(q.startswith('SELECT "requests_portal_recordsrequest".') for q in sql) == 1


def test_the_request_page_s_cached_settings_follow_a_change_at_once(tenant, client_for):
    import datetime

    records_request = file_request(tenant, visibility="published")
    client = client_for(None, tenant.host)
    url = public_url(records_request)
    first = client.get(url).context["cutoff"]

    later = datetime.time(18, 30) if first != datetime.time(18, 30) else datetime.time(16, 0)
    set_request_settings(tenant, cutoff=later)  # a queryset update(): RenewingQuerySet

    assert client.get(url).context["cutoff"] == later
