"""Regression tests from the review of the requests app: bad input -> 500?"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal.models import ResponseTemplate, TemplateKind
from tests.requests_portal.helpers import file_request

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]
HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        "/requests/similar/?q=abc%00def",
        "/requests/new/?similar=abc%00def",
        "/archive/?q=abc%00def",
        "/archive/?q=%22%27!%26%7C%3A*()%3C-%3E",
        "/archive/?page=" + HUGE,
        "/archive/?page=" + "9" * 5000,
        "/archive/?since=0001-01-01&until=9999-12-31",
        "/archive/?department=" + HUGE,
    ],
)
def test_public_pages_answer_odd_query_strings_without_a_500(tenant, client_for, url):
    file_request(tenant, title="abc def")
    resp = client_for(None, tenant.host).get(url)
    assert resp.status_code < 500


@pytest.mark.parametrize(
    "url",
    [
        "/staff/requests/?q=abc%00def",
        "/staff/requests/?page=" + HUGE,
        "/staff/requests/?department=" + HUGE,
        "/staff/requests/{n}/?template=" + HUGE,
        "/staff/requests/{n}/?template=-1",
        "/staff/departments/" + HUGE + "/",
        "/staff/reports/?start=0001-01-01&end=0001-12-31",
        "/staff/reports/?start=9990-01-01&end=9999-12-31&format=xlsx",
        "/staff/reports/?start=2026-01-01&end=2026-12-31&format=csv",
    ],
)
def test_staff_pages_answer_odd_query_strings_without_a_500(tenant, client_for, url):
    r = file_request(tenant)
    resp = client_for(tenant.admin, tenant.host).get(url.format(n=r.number))
    assert resp.status_code < 500


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("tasks/" + HUGE + "/done/", {}),
        ("time/" + HUGE + "/", {"minutes": "5"}),
        ("route/", {"route-departments": [HUGE], "route-point_of_contact": HUGE}),
        ("close/", {"close-reason": HUGE}),
        ("close/", {"close-reason": "x"}),
        ("message/", {"kind": "internal", "body": "x", "notify": [HUGE]}),
        ("tasks/", {"task-title": "t", "task-assignee": HUGE, "task-due_date": "99999-1-1"}),
        ("time/", {"time-day": "0001-01-01", "time-minutes": "10"}),
        ("extend/", {"extend-days": HUGE, "extend-reason": "r"}),
    ],
)
def test_staff_actions_answer_odd_posts_without_a_500(tenant, client_for, path, data):
    r = file_request(tenant)
    resp = client_for(tenant.admin, tenant.host).post(f"/staff/requests/{r.number}/{path}", data)
    assert resp.status_code < 500


def test_saving_a_template_name_again_replaces_it_without_a_500(tenant, client_for):
    with agency_context(tenant.agency):
        ResponseTemplate.objects.create(
            agency=tenant.agency, kind=TemplateKind.MESSAGE, name="Hello", body="x"
        )
    resp = client_for(tenant.department_admin, tenant.host).post(
        reverse("staff:templates"), {"kind": "message", "name": "Hello", "body": "y"}
    )
    assert resp.status_code < 500


def test_a_department_name_differing_only_in_case_is_a_field_error(tenant, client_for):
    c = client_for(tenant.admin, tenant.host)
    resp = c.post(
        reverse("staff:request_types"),
        {"name": "Video", "response_days": "30", "response_method": "calendar"},
    )
    assert resp.status_code == 302


def test_the_public_form_refuses_garbage_type_and_custom_answers(tenant, client_for):
    resp = client_for(None, tenant.host).post(
        "/requests/new/",
        {
            "title": "t",
            "description": "d",
            "delivery": "electronic",
            "email": "a@b.org",
            "department": HUGE,
            "request_type": HUGE,
        },
    )
    assert resp.status_code < 500
