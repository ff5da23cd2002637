"""The admins' webhook pages: adding an address shows its secret once, a refused address is
a field error, the log shows each answer and sends again, everything is audited, and
another agency's addresses and deliveries are a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.form_helpers import form_values
from tests.requests_portal.helpers import file_request
from tests.webhooks.helpers import deliveries, endpoint
from tests.webhooks.receiver import verify
from webhooks import services
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agency_defaults")]


def _browser(client_for, user, host):
    client = client_for(user, host)
    client.handler.enforce_csrf_checks = True
    return client


def _actions(tenant, action: str) -> list[AuditEvent]:
    with agency_context(tenant.agency):
        return list(AuditEvent.objects.filter(agency=tenant.agency, action=action))


def _endpoints(tenant) -> list[WebhookEndpoint]:
    with agency_context(tenant.agency):
        return list(WebhookEndpoint.objects.filter(agency=tenant.agency))


def test_adding_an_address_shows_its_secret_once_and_a_second_send_adds_nothing(
    tenant, client_for, receiver, django_capture_on_commit_callbacks
):
    client = _browser(client_for, tenant.admin, tenant.host)
    page_url = reverse("staff:webhook_list")
    values = form_values(client.get(page_url), page_url)
    values.update(url=receiver.url(), events=["request.created", "request.closed"])
    first = client.post(page_url, values)
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    [hook] = _endpoints(tenant)
    with agency_context(tenant.agency):
        secret = services.endpoint_secret(hook)
    assert secret.startswith("whsec_") and secret in first.content.decode()
    assert hook.events == ["request.created", "request.closed"]
    assert bytes(hook.sealed_secret).find(secret.encode()) == -1
    [created] = _actions(tenant, "webhook.endpoint_created")
    assert secret not in str(created.details)

    again = client.post(page_url, values)
    assert again.status_code == 302
    assert len(_endpoints(tenant)) == 1
    assert secret not in client.get(again["Location"]).content.decode()

    # The secret shown is the one the deliveries are signed with.
    with django_capture_on_commit_callbacks(execute=True):
        file_request(tenant, requester=tenant.requester)
    [got] = receiver.received
    assert verify(secret, got.headers["x-portal-signature"], got.body)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://169.254.169.254/latest/meta-data/", "private or internal"),
        ("https://10.1.2.3/hooks", "private or internal"),
        ("ftp://example.org/", "https://"),
        ("not an address", "https://"),
    ],
)
def test_a_refused_address_is_a_field_error(tenant, client_for, url, message, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_TARGETS = False
    client = client_for(tenant.admin, tenant.host)
    response = client.post(
        reverse("staff:webhook_list"), {"url": url, "events": ["request.created"]}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _endpoints(tenant) == []


def test_no_event_chosen_is_a_field_error(tenant, client_for, receiver):
    response = client_for(tenant.admin, tenant.host).post(
        reverse("staff:webhook_list"), {"url": receiver.url()}
    )
    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()


def test_the_log_shows_each_answer_and_sends_again(
    tenant, client_for, receiver, django_capture_on_commit_callbacks
):
    hook, _secret = endpoint(tenant, receiver.url(), ["request.created"])
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        file_request(tenant, requester=tenant.requester)
    [delivery] = deliveries(tenant)
    client = _browser(client_for, tenant.admin, tenant.host)
    detail = reverse("staff:webhook_detail", args=[hook.pk])
    page = client.get(detail)
    text = page.content.decode()
    assert "HTTP 500 in" in text and str(delivery.event_id) in text
    resend = reverse("staff:webhook_resend", args=[delivery.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend, form_values(page, resend))
    assert response.status_code == 302
    [delivery] = deliveries(tenant)
    assert (delivery.state, delivery.last_status_code) == ("delivered", 200)
    assert [r.answered for r in receiver.received] == [500, 200]
    assert len({r.headers["x-portal-event-id"] for r in receiver.received}) == 1
    assert len(_actions(tenant, "webhook.delivery_resent")) == 1
    assert "HTTP 200 in" in client.get(detail).content.decode()


def test_a_new_secret_replaces_the_old_one_at_once(
    tenant, client_for, receiver, django_capture_on_commit_callbacks
):
    hook, old = endpoint(tenant, receiver.url(), ["request.created"])
    client = _browser(client_for, tenant.admin, tenant.host)
    detail = reverse("staff:webhook_detail", args=[hook.pk])
    rotate = reverse("staff:webhook_rotate", args=[hook.pk])
    values = form_values(client.get(detail), rotate)
    response = client.post(rotate, values)
    assert response.status_code == 200
    with agency_context(tenant.agency):
        new = services.endpoint_secret(WebhookEndpoint.objects.get(pk=hook.pk))
    assert new != old and new in response.content.decode()
    again = client.post(rotate, values)  # sent twice: replaced once, not shown again
    assert again.status_code == 302
    with agency_context(tenant.agency):
        assert services.endpoint_secret(WebhookEndpoint.objects.get(pk=hook.pk)) == new
    assert len(_actions(tenant, "webhook.secret_rotated")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        file_request(tenant, requester=tenant.requester)
    [got] = receiver.received
    assert verify(new, got.headers["x-portal-signature"], got.body)
    assert not verify(old, got.headers["x-portal-signature"], got.body)


def test_turning_off_and_removing_are_audited(tenant, client_for, receiver):
    hook, _secret = endpoint(tenant, receiver.url())
    client = client_for(tenant.admin, tenant.host)
    client.post(reverse("staff:webhook_active", args=[hook.pk]))
    assert _endpoints(tenant)[0].is_active is False
    client.post(reverse("staff:webhook_delete", args=[hook.pk]))
    assert _endpoints(tenant) == []
    assert len(_actions(tenant, "webhook.endpoint_active")) == 1
    assert len(_actions(tenant, "webhook.endpoint_deleted")) == 1


def test_another_agencys_address_and_delivery_are_a_404(
    tenant, other_tenant, client_for, receiver, django_capture_on_commit_callbacks
):
    theirs, _secret = endpoint(other_tenant, receiver.url(), ["request.created"])
    with django_capture_on_commit_callbacks(execute=True):
        file_request(other_tenant, requester=other_tenant.requester)
    [their_delivery] = deliveries(other_tenant)
    client = client_for(tenant.admin, tenant.host)
    urls = [
        ("get", reverse("staff:webhook_detail", args=[theirs.pk])),
        ("post", reverse("staff:webhook_active", args=[theirs.pk])),
        ("post", reverse("staff:webhook_delete", args=[theirs.pk])),
        ("post", reverse("staff:webhook_rotate", args=[theirs.pk])),
        ("post", reverse("staff:webhook_resend", args=[their_delivery.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.content.decode()
    listed = client.get(reverse("staff:webhook_list")).content.decode()
    assert receiver.url() not in listed
    assert _endpoints(other_tenant)[0].is_active is True


def test_only_admins_manage_webhooks(tenant, client_for):
    for user in (tenant.publisher, tenant.staff, tenant.department_admin):
        response = client_for(user, tenant.host).get(reverse("staff:webhook_list"))
        assert response.status_code == 403
