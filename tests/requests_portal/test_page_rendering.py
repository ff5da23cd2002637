"""Pages as HTML: request text shown escaped on public and staff pages, and list pages whose
query count does not grow with their rows.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.requests_portal.helpers import (
    ESCAPED_SCRIPT,
    SCRIPT,
    body_of,
    file_request,
    public_url,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


# --- Escaping ------------------------------------------------------------------------------------


@pytest.fixture
def script_request(tenant):
    return file_request(tenant, title=SCRIPT, description=f"Records about {SCRIPT} please")


@pytest.mark.parametrize(
    ("page", "who"),
    [
        ("request_page", None),
        ("archive", None),
        ("staff_queue", "admin"),
        ("staff_detail", "admin"),
    ],
)
def test_script_in_title_and_description_is_shown_escaped(
    page, who, tenant, script_request, client_for
):
    url = {
        "request_page": public_url(script_request),
        "archive": reverse("archive"),
        "staff_queue": reverse("staff:request_queue"),
        "staff_detail": staff_url("detail", script_request),
    }[page]
    user = getattr(tenant, who) if who else None

    response = client_for(user, tenant.host).get(url)

    assert response.status_code == 200
    body = body_of(response)
    assert ESCAPED_SCRIPT in body
    assert "<script>alert" not in body


# --- Query discipline ----------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url_name", "who"),
    [("archive", None), ("staff:request_queue", "admin"), ("my_requests", "requester")],
)
def test_list_page_query_count_does_not_grow_with_twenty_more_requests(
    url_name, who, tenant, client_for, django_assert_num_queries
):
    user = getattr(tenant, who) if who else None
    requester = tenant.requester

    def add(count: int, start: int) -> list[str]:
        return [
            file_request(tenant, requester=requester, title=f"Listed request {start + n}").number
            for n in range(count)
        ]

    add(2, 0)
    client = client_for(user, tenant.host)
    url = reverse(url_name)
    client.get(url)  # warm per-process caches
    before = _count_queries(client, url)

    numbers = add(20, 2)

    with django_assert_num_queries(before):
        response = client.get(url)
    body = body_of(response)
    assert all(f">{number}<" in body for number in numbers)
