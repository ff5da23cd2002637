"""The public archive's search: ranked matches with highlighted snippets that are never HTML,
and the similar-requests box of the form.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from requests_portal.models import (
    Visibility,
)
from tests.requests_portal.helpers import (
    SCRIPT,
    body_of,
    file_request,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


# --- Search --------------------------------------------------------------------------------


@pytest.fixture
def monorail_requests(tenant):
    strong = file_request(
        tenant,
        title="Monorail feasibility study",
        description="The monorail study, monorail ridership forecasts and monorail costs.",
    )
    weak = file_request(
        tenant,
        title="Transit board minutes",
        description="Minutes of 2024, which mention a monorail once among other business.",
    )
    file_request(tenant, title="Park budget", description="Spending on parks in 2025.")
    file_request(
        tenant,
        title="Restricted monorail contract",
        description="The secret monorail contract.",
        visibility=Visibility.RESTRICTED,
    )
    return strong, weak


def test_archive_search_finds_published_matches_ranked_with_highlighted_snippets(
    tenant, monorail_requests, client_for
):
    strong, weak = monorail_requests

    response = client_for(None, tenant.host).get(reverse("archive"), {"q": "monorail"})

    body = body_of(response)
    assert response.status_code == 200
    assert [row.number for row in response.context["rows"]] == [strong.number, weak.number]
    assert "2 requests matching" in body
    assert "Park budget" not in body
    assert "Restricted monorail contract" not in body
    assert body.index("Monorail feasibility study") < body.index("Transit board minutes")
    assert "<mark>monorail</mark>" in body
    assert "The secret" not in body


def test_archive_snippet_is_never_html_except_its_mark_tags(tenant, client_for):
    file_request(
        tenant,
        title="Tagged text",
        description=(
            f"Records on the <b>monorail</b> project, {SCRIPT} and "
            '<img src="x" onerror="alert(2)"> monorail & other <i>things</i>.'
        ),
    )

    body = body_of(client_for(None, tenant.host).get(reverse("archive"), {"q": "monorail"}))

    snippet = re.search(r'<div class="snippet">(.*?)</div>', body, re.S).group(1)
    assert "<mark>monorail</mark>" in snippet
    tags = set(re.findall(r"</?([a-zA-Z]+)", snippet))
    assert tags == {"mark"}
    assert "<script" not in body.lower().replace('<script src="/static/', "")


def test_archive_snippet_shows_tags_in_the_description_escaped_as_written(tenant, client_for):
    file_request(
        tenant,
        title="Tagged text",
        description="Records on the <b>monorail</b> project and <i>other</i> things.",
    )

    body = body_of(client_for(None, tenant.host).get(reverse("archive"), {"q": "monorail"}))

    snippet = re.search(r'<div class="snippet">(.*?)</div>', body, re.S).group(1)
    assert "&lt;b&gt;<mark>monorail</mark>&lt;/b&gt;" in snippet


def test_similar_requests_fragment_lists_published_matches_and_never_restricted_ones(
    tenant, monorail_requests, client_for
):
    response = client_for(None, tenant.host).get(reverse("request_similar"), {"q": "monorail"})

    body = body_of(response)
    assert response.status_code == 200
    assert "Monorail feasibility study" in body
    assert "Transit board minutes" in body
    assert "Restricted monorail contract" not in body
    assert "secret" not in body
