"""The archive's result list and filter form, rendered once per process for the values they
are made of (requests_portal/page_fragments.py): a change to a request, a department or the
reader's language shows on the very next view, each agency sees its own rows only, and the
search page's query count does not grow with its matches."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal import page_fragments
from requests_portal.models import Department, RecordsRequest
from tests.requests_portal.helpers import ESCAPED_SCRIPT, SCRIPT, body_of, department, file_request

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


@pytest.fixture(autouse=True)
def _empty_memos():
    page_fragments.forget_all()
    yield
    page_fragments.forget_all()


def _retitle(tenant, records_request, title: str) -> None:
    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk=records_request.pk).update(title=title)


@pytest.mark.parametrize("params", [{}, {"q": "minutes"}])
def test_a_changed_request_shows_on_the_next_view(tenant, client_for, params):
    filed = file_request(tenant, title="Council minutes, first title")
    client = client_for(None, tenant.host)
    assert "first title" in body_of(client.get(reverse("archive"), params))

    _retitle(tenant, filed, "Council minutes, second title")

    body = body_of(client.get(reverse("archive"), params))
    assert "second title" in body
    assert "first title" not in body


def test_a_new_or_renamed_department_shows_in_the_filter_at_once(tenant, client_for):
    clerk = department(tenant, "Clerk's office")
    client = client_for(None, tenant.host)
    assert "Clerk&#x27;s office" in body_of(client.get(reverse("archive")))

    with agency_context(tenant.agency):
        Department.objects.filter(pk=clerk.pk).update(name="Records office")
    department(tenant, "Parks")

    body = body_of(client.get(reverse("archive")))
    assert "Records office" in body and "Parks" in body
    assert "Clerk&#x27;s office" not in body


def test_each_agency_sees_only_its_own_rows_and_departments(tenant, other_tenant, client_for):
    # The same title, number and department name in both agencies: the same values, so the
    # same rendering could serve both; each page must still list its own agency's rows only.
    ours = file_request(tenant, title="Council minutes")
    theirs = file_request(other_tenant, title="Council minutes")
    file_request(other_tenant, title="Only in bravo")
    department(tenant, "Clerk")
    department(other_tenant, "Clerk")
    department(other_tenant, "Bravo works")

    ours_body = body_of(client_for(None, tenant.host).get(reverse("archive")))
    theirs_body = body_of(client_for(None, other_tenant.host).get(reverse("archive")))

    assert ours.number == theirs.number
    assert "Only in bravo" in theirs_body and "Only in bravo" not in ours_body
    assert "Bravo works" in theirs_body and "Bravo works" not in ours_body


def test_each_language_has_its_own_rows_and_form(tenant, client_for):
    file_request(tenant, title="Council minutes")
    client = client_for(None, tenant.host)
    english = body_of(client.get(reverse("archive")))
    spanish = body_of(client.get(reverse("archive"), HTTP_ACCEPT_LANGUAGE="es"))
    assert "Any department" in english and "Cualquier departamento" not in english
    assert "Cualquier departamento" in spanish and "Any department" not in spanish
    # The row's status label too (a filed request is "Submitted").
    assert 'status-submitted">Submitted<' in english
    assert 'status-submitted">Recibida<' in spanish


def test_the_filter_form_shows_each_search_and_its_errors(tenant, client_for):
    client = client_for(None, tenant.host)
    first = body_of(client.get(reverse("archive"), {"q": "monorail"}))
    second = body_of(client.get(reverse("archive"), {"q": "budget", "since": "not a date"}))
    assert 'value="monorail"' in first
    assert 'value="budget"' in second and 'value="monorail"' not in second
    assert "field-error" in second and "field-error" not in first


def test_search_text_in_a_snippet_stays_escaped_on_every_view(tenant, client_for):
    file_request(tenant, title="Minutes", description=f"Minutes about {SCRIPT} and more minutes")
    client = client_for(None, tenant.host)
    for _ in range(2):  # rendered, then taken from the memo
        body = body_of(client.get(reverse("archive"), {"q": "minutes"}))
        assert "<mark>" in body
        assert ESCAPED_SCRIPT in body or "&lt;script&gt;" in body
        assert "<script>alert" not in body


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_search_query_count_does_not_grow_with_its_matches(tenant, client_for):
    for n in range(2):
        file_request(tenant, title=f"Bridge inspection {n}")
    client = client_for(None, tenant.host)
    url, params = reverse("archive"), {"q": "bridge"}
    client.get(url, params)
    before = _count(client, url, params)

    numbers = [file_request(tenant, title=f"Bridge inspection {n}").number for n in range(2, 22)]

    after = _count(client, url, params)
    body = body_of(client.get(url, params))
    assert after == before
    assert all(f">{number}<" in body for number in numbers)
