"""An agency admin connects the agency's own Stripe account: the key is tried against the
(local) Stripe, both secrets are sealed, the key is never shown again, another agency's
account is refused, and a Stripe that does not answer leaves nothing half-saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing.services import connect
from tests.billing.stripe_helpers import connect_stripe, stripe_account_of
from tests.stripe_server.fixtures import new_stripe_account

pytestmark = pytest.mark.django_db

URL = "billing:stripe_connect"


def _post(client, account, **override):
    values = {"api_key": account.api_key, "webhook_secret": account.webhook_secret, **override}
    return client.post(reverse(URL), values)


def test_admin_connects_with_a_restricted_key_and_the_key_is_sealed_and_never_shown(
    tenant, client_for, local_stripe
):
    account = new_stripe_account(local_stripe, name="Alpha City Clerk")
    client = client_for(tenant.admin, tenant.host)
    response = _post(client, account)
    assert response.status_code == 302
    stored = stripe_account_of(tenant)
    assert stored.account_id == account.account_id
    assert stored.display_name == "Alpha City Clerk"
    assert stored.livemode is False
    assert account.api_key.encode() not in bytes(stored.sealed_api_key)
    assert account.webhook_secret.encode() not in bytes(stored.sealed_webhook_secret)
    with agency_context(tenant.agency):
        assert connect.api_key_of(stored) == account.api_key
        assert connect.webhook_secret_of(stored) == account.webhook_secret
        assert AuditEvent.objects.filter(
            agency=tenant.agency, action="billing.stripe_connected"
        ).exists()
    page = client.get(reverse(URL)).content.decode()
    assert account.account_id in page
    assert account.api_key not in page and account.webhook_secret not in page
    assert account.api_key[-4:] in page
    assert f"http://{tenant.host}" in page and reverse("billing:stripe_webhook") in page


def test_a_key_stripe_does_not_accept_is_refused_and_nothing_is_stored(
    tenant, client_for, local_stripe
):
    account = new_stripe_account(local_stripe)
    client = client_for(tenant.admin, tenant.host)
    response = _post(client, account, api_key="rk_test_notakeystripeknows1234")
    assert response.status_code == 400
    assert "Stripe did not accept this key" in response.content.decode()
    assert stripe_account_of(tenant) is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("api_key", "sk_live_abcdefghijklmnop", "Use a restricted key"),
        ("api_key", "pk_test_abcdefghijklmnop", "rk_live_"),
        ("webhook_secret", "not-a-secret", "whsec_"),
    ],
)
def test_a_malformed_key_or_secret_is_refused_before_asking_stripe(
    tenant, client_for, local_stripe, field, value, message
):
    account = new_stripe_account(local_stripe)
    response = _post(client_for(tenant.admin, tenant.host), account, **{field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert stripe_account_of(tenant) is None


def test_an_account_already_connected_to_another_agency_is_refused(
    tenant, other_tenant, client_for, local_stripe
):
    theirs = connect_stripe(other_tenant, local_stripe)
    response = _post(client_for(tenant.admin, tenant.host), theirs)
    assert response.status_code == 400
    assert "already connected to another agency" in response.content.decode()
    assert stripe_account_of(tenant) is None
    assert stripe_account_of(other_tenant).account_id == theirs.account_id


def test_stripe_not_answering_says_so_and_stores_nothing(tenant, client_for, local_stripe):
    account = new_stripe_account(local_stripe)
    local_stripe.behave(down=True)
    response = _post(client_for(tenant.admin, tenant.host), account)
    assert response.status_code == 400
    assert "Stripe did not answer" in response.content.decode()
    assert stripe_account_of(tenant) is None


def test_reconnecting_replaces_the_key_and_disconnecting_forgets_it(
    tenant, client_for, local_stripe
):
    connect_stripe(tenant, local_stripe)
    second = new_stripe_account(local_stripe, name="New account")
    client = client_for(tenant.admin, tenant.host)
    assert _post(client, second).status_code == 302
    assert stripe_account_of(tenant).account_id == second.account_id
    response = client.post(reverse("billing:stripe_disconnect"))
    assert response.status_code == 302
    assert stripe_account_of(tenant) is None
    with agency_context(tenant.agency):
        assert AuditEvent.objects.filter(
            agency=tenant.agency, action="billing.stripe_disconnected"
        ).exists()


def test_only_admins_see_the_page_and_outsiders_get_404(tenant, outsider, client_for, local_stripe):
    assert client_for(tenant.admin, tenant.host).get(reverse(URL)).status_code == 200
    assert client_for(tenant.publisher, tenant.host).get(reverse(URL)).status_code == 403
    assert client_for(tenant.staff, tenant.host).get(reverse(URL)).status_code == 403
    assert client_for(outsider, tenant.host).get(reverse(URL)).status_code == 404
    account = new_stripe_account(local_stripe)
    assert _post(client_for(outsider, tenant.host), account).status_code == 404
    assert (
        client_for(outsider, tenant.host).post(reverse("billing:stripe_disconnect")).status_code
        == 404
    )
    assert stripe_account_of(tenant) is None
