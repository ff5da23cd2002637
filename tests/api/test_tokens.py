"""Personal API tokens: shown once, stored as a keyed hash, scoped, bound to an agency, and
stopped at once by revocation, expiry, deactivation or a removed membership."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership
from accounts.tenancy import agency_context
from api.models import ApiToken
from api.tokens.services import token_revoke
from audit.models import AuditEvent
from tests.api.helpers import api_client, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agencies")]


def test_a_token_reads_and_the_database_holds_no_secret(tenant):
    token, text = make_token(tenant.staff, tenant.agency)
    secret = text.split("_", 2)[2]
    with agency_context(tenant.agency):
        row = ApiToken.objects.get(pk=token.pk)
        assert secret not in row.digest and row.digest != secret
        assert all(secret not in str(v) for v in row.__dict__.values())
        created = AuditEvent.objects.filter(action="api.token_created").get()
        assert created.details["key"] == token.key
        assert secret not in str(created.details)
    response = api_client(text, tenant.host).get("/api/v1/requests/")
    assert response.status_code == 200, response.content
    with agency_context(tenant.agency):
        viewed = AuditEvent.objects.filter(action="page.view").last()
        assert viewed.actor_id == tenant.staff.pk
        assert viewed.details["api_token"] == token.key
        assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def _refused(text, host):
    response = api_client(text, host).get("/api/v1/requests/")
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_or_shape_is_refused(tenant):
    _token, text = make_token(tenant.staff, tenant.agency)
    _refused(text[:-1] + ("A" if text[-1] != "A" else "B"), tenant.host)
    _refused("rp_nothing", tenant.host)
    _refused(text + " extra", tenant.host)


def test_revoked_expired_deactivated_and_removed_members_stop_at_once(tenant):
    token, text = make_token(tenant.staff, tenant.agency)
    client = api_client(text, tenant.host)
    assert client.get("/api/v1/requests/").status_code == 200
    with agency_context(tenant.agency):
        assert token_revoke(token=token, actor=tenant.admin)
        assert AuditEvent.objects.filter(action="api.token_revoked").count() == 1
    _refused(text, tenant.host)

    token, text = make_token(tenant.staff, tenant.agency)
    with agency_context(tenant.agency):
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    _refused(text, tenant.host)

    _token, text = make_token(tenant.publisher, tenant.agency)
    assert api_client(text, tenant.host).get("/api/v1/requests/").status_code == 200
    tenant.publisher.is_active = False
    tenant.publisher.save(update_fields=["is_active"])
    _refused(text, tenant.host)

    _token, text = make_token(tenant.department_admin, tenant.agency)
    with agency_context(tenant.agency):
        Membership.objects.filter(user=tenant.department_admin).update(is_active=False)
    _refused(text, tenant.host)


def test_a_token_works_on_its_own_agencys_site_only(tenant, other_tenant):
    _token, text = make_token(tenant.staff, tenant.agency)
    _refused(text, other_tenant.host)


def test_a_token_without_the_scope_is_refused(tenant):
    _token, text = make_token(tenant.staff, tenant.agency, scopes=["documents:read"])
    response = api_client(text, tenant.host).get("/api/v1/requests/")
    assert response.status_code == 403
    _token, text = make_token(tenant.staff, tenant.agency, scopes=["requests:read"])
    response = api_client(text, tenant.host).post(
        "/api/v1/requests/", {"title": "x", "description": "y"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_a_token_lives_a_year_at_most(tenant):
    with pytest.raises(ValueError):
        make_token(tenant.staff, tenant.agency, days=400)
    with pytest.raises(ValueError):
        make_token(tenant.staff, tenant.agency, scopes=["requests:delete"])
    assert datetime.timedelta(days=366) >= datetime.timedelta(days=365)
