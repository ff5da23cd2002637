"""The pages of personal API tokens: made on the account page (shown once, the form sent
twice makes one), made only after a fresh second factor where the agency requires it,
revoked by their owner or the agency's admins (and by nobody else)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from accounts import once
from accounts.signin import mfa
from accounts.tenancy import agency_context
from api.models import ApiToken
from tests.api.helpers import api_client, make_token
from tests.form_helpers import form_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agencies")]

LIST = "/accounts/api-tokens/"


def _browser(client_for, user, host, **kwargs):
    client = client_for(user, host, **kwargs)
    client.handler.enforce_csrf_checks = True
    return client


def _form(client, **typed):
    values = form_values(client.get(LIST), LIST)
    values.update({"name": "Case system", "scopes": ["requests:read"], **typed})
    return values


def test_a_token_is_shown_once_and_the_form_sent_twice_makes_one(tenant, client_for):
    client = _browser(client_for, tenant.staff, tenant.host)
    values = _form(client)
    first = client.post(LIST, values)
    assert first.status_code == 200, first.content.decode()[:2000]
    assert first["Cache-Control"].startswith("no-store") or "no-store" in first["Cache-Control"]
    html = first.content.decode()
    assert 'id="new-token"' in html
    text = html.split('id="new-token" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert text.startswith("rp_")
    again = client.post(LIST, values)
    assert again.status_code == 302 and again["Location"] == LIST
    assert once.ALREADY_SENT in client.get(LIST).content.decode()
    with agency_context(tenant.agency):
        assert ApiToken.objects.filter(user=tenant.staff).count() == 1
    assert text not in client.get(LIST).content.decode()  # never shown again
    assert api_client(text, tenant.host).get("/api/v1/requests/").status_code == 200


def test_an_agency_requiring_two_factor_asks_for_a_fresh_code_first(tenant, client_for):
    tenant.agency.mfa_required_for_staff = True
    tenant.agency.save(update_fields=["mfa_required_for_staff"])
    client = _browser(client_for, tenant.staff, tenant.host)
    session = client.session
    session[mfa.SESSION_MFA_AT] = int(time.time()) - 3600  # passed an hour ago
    session.save()
    response = client.post(LIST, _form(client))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_setup")) or response[
        "Location"
    ].startswith(reverse("accounts:mfa_step_up"))
    with agency_context(tenant.agency):
        assert not ApiToken.objects.filter(user=tenant.staff).exists()
    session = client.session
    session[mfa.SESSION_MFA_AT] = int(time.time())
    session.save()
    assert client.post(LIST, _form(client)).status_code == 200


def test_bad_input_is_a_form_error(tenant, client_for):
    client = _browser(client_for, tenant.staff, tenant.host)
    response = client.post(LIST, _form(client, expires_on="2099-01-01", scopes=[]))
    assert response.status_code == 400
    assert "within one year" in response.content.decode()


def test_owners_and_admins_revoke_others_cannot(tenant, other_tenant, client_for):
    token, text = make_token(tenant.staff, tenant.agency)
    admin = _browser(client_for, tenant.admin, tenant.host)
    listed = admin.get("/staff/api-tokens/")
    assert listed.status_code == 200 and token.prefix in listed.content.decode()
    publisher = client_for(tenant.publisher, tenant.host)
    assert publisher.get("/staff/api-tokens/").status_code == 403
    assert publisher.post(f"/accounts/api-tokens/{token.pk}/revoke/").status_code == 404
    outsider = client_for(other_tenant.admin, tenant.host)
    assert outsider.get("/staff/api-tokens/").status_code == 404
    assert outsider.post(f"/staff/api-tokens/{token.pk}/revoke/").status_code == 404
    assert api_client(text, tenant.host).get("/api/v1/requests/").status_code == 200
    revoke = f"/staff/api-tokens/{token.pk}/revoke/"
    values = form_values(listed, revoke)
    assert admin.post(revoke, values).status_code == 302
    assert api_client(text, tenant.host).get("/api/v1/requests/").status_code == 401

    own, own_text = make_token(tenant.publisher, tenant.agency)
    assert publisher.post(f"/accounts/api-tokens/{own.pk}/revoke/").status_code == 302
    assert api_client(own_text, tenant.host).get("/api/v1/requests/").status_code == 401
