"""The API's foundation: its schema, its documentation page and its one error shape."""

from __future__ import annotations

import json
import re

import pytest
from rest_framework import exceptions

from api.errors import exception_handler

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_and_public(client_for, tenant):
    response = client_for(None, tenant.host).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Records Portal API"


def test_the_docs_are_for_signed_in_people_and_load_nothing_from_elsewhere(client_for, tenant):
    anonymous = client_for(None, tenant.host).get("/api/v1/docs/")
    assert anonymous.status_code == 302
    assert "/accounts/" in anonymous["Location"]

    response = client_for(tenant.staff, tenant.host).get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in html.replace(" ", "")  # no inline script: the CSP forbids it
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_every_error_has_one_shape_with_a_message_per_field():
    invalid = exceptions.ValidationError({"title": ["Too long."], "contact": {"email": ["Bad."]}})
    body = exception_handler(invalid, {}).data
    assert body["error"]["status"] == 400
    assert body["error"]["code"] == "invalid"
    assert body["error"]["fields"] == {"title": ["Too long."], "contact.email": ["Bad."]}

    throttled = exception_handler(exceptions.Throttled(wait=7), {})
    assert throttled.status_code == 429
    assert throttled.data["error"]["code"] == "throttled"
    assert throttled["Retry-After"] == "7"
