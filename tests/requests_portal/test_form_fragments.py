"""The request form's fields come from the cache (requests_portal/form_fragments.py): the
same HTML as rendering them, never a stale form after the agency changes what the form is
made of, a new one-time key with every blank form, and a posted form always fresh."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal.models import CustomField, Department, RequestType
from tests.requests_portal.helpers import body_of, set_request_settings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]

_PER_RENDERING = re.compile(r'name="(csrfmiddlewaretoken|submission_key)" value="[^"]*"')


def _form(client) -> str:
    response = client.get(reverse("request_new"))
    assert response.status_code == 200
    return body_of(response)


def _steady(body: str) -> str:
    return _PER_RENDERING.sub(r'name="\1" value=""', body)


def _keys(body: str) -> list[str]:
    return re.findall(r'name="submission_key" value="([^"]*)"', body)


def test_the_cached_form_is_the_rendered_form_with_a_new_key_each_time(tenant, client_for):
    client = client_for(None, tenant.host)
    first, second = _form(client), _form(client)

    assert _steady(first) == _steady(second)
    assert 'name="description"' in second and 'name="email"' in second
    assert len(_keys(first)) == len(_keys(second)) == 1
    assert _keys(first) != _keys(second)  # sending the same form twice stays detectable


def test_a_signed_in_person_and_a_guest_get_their_own_forms(tenant, client_for):
    guest = _form(client_for(None, tenant.host))
    signed_in = _form(client_for(tenant.requester, tenant.host))
    assert 'name="email"' in guest
    assert 'name="email"' not in signed_in  # updates go to the account's address


def test_a_new_department_request_type_or_question_shows_at_once(tenant, client_for):
    set_request_settings(tenant, show_department_picker=True)
    client = client_for(None, tenant.host)
    _form(client)

    with agency_context(tenant.agency):
        Department.objects.create(agency=tenant.agency, name="Harbour Master")
    assert "Harbour Master" in _form(client)

    with agency_context(tenant.agency):
        RequestType.objects.create(
            agency=tenant.agency,
            name="Body camera video",
            response_days=30,
            response_method="calendar",
        )
    assert "Body camera video" in _form(client)

    with agency_context(tenant.agency):
        CustomField.objects.create(agency=tenant.agency, label="Case number", kind="text")
    assert "Case number" in _form(client)


def test_a_bulk_settings_change_shows_at_once(tenant, client_for):
    set_request_settings(tenant, show_department_picker=True)
    client = client_for(None, tenant.host)
    assert 'name="department"' in _form(client)

    set_request_settings(tenant, show_department_picker=False)  # a queryset update()
    assert 'name="department"' not in _form(client)


def test_a_posted_form_is_rendered_with_its_values_and_errors(tenant, client_for):
    client = client_for(None, tenant.host)
    _form(client)
    response = client.post(
        reverse("request_new"), {"title": "Kept title", "description": "", "email": "x"}
    )
    body = body_of(response)
    assert response.status_code == 400
    assert 'value="Kept title"' in body
    assert "field-invalid" in body


def test_each_language_has_its_own_form(tenant, client_for):
    client = client_for(None, tenant.host)
    english = _form(client)
    spanish = body_of(client.get(reverse("request_new"), HTTP_ACCEPT_LANGUAGE="es"))
    assert "What records do you want?" in english
    assert "What records do you want?" not in spanish


def test_the_blank_key_is_the_widget_s_own_markup(tenant, client_for):
    # The blank form's key is written without its widget (it comes with every view); a posted
    # form renders the widget: both must be the same input.
    client = client_for(None, tenant.host)
    blank = re.findall(r'<input type="hidden" name="submission_key"[^>]*>', _form(client))
    posted = re.findall(
        r'<input type="hidden" name="submission_key"[^>]*>',
        body_of(client.post(reverse("request_new"), {"submission_key": _keys(_form(client))[0]})),
    )
    assert len(blank) == len(posted) == 1
    assert re.sub(r'value="[^"]*"', "", blank[0]) == re.sub(r'value="[^"]*"', "", posted[0])


def test_the_blank_form_reads_nothing_it_is_made_of_once_cached(tenant, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_request_settings(tenant, show_department_picker=True)
    client = client_for(None, tenant.host)
    _form(client)
    with CaptureQueriesContext(connection) as captured:
        _form(client)
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    for table in ("requestsettings", "department", "requesttype", "customfield"):
        assert f"requests_portal_{table}" not in sql


def test_a_cached_blank_form_carries_a_working_csrf_token_of_its_own(tenant, client_for):
    from django.test import Client

    client_for(None, tenant.host).get(reverse("request_new"))  # the body is now cached
    client = Client(enforce_csrf_checks=True, HTTP_HOST=tenant.host)
    body = _form(client)
    (token,) = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)[-1:]

    refused = client.post(reverse("request_new"), {"title": "No token"})
    accepted = client.post(reverse("request_new"), {"title": "", "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 400  # past the CSRF check, refused by the form itself
