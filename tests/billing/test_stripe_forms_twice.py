"""The Stripe forms sent twice as a browser sends them (the page's CSRF and one-time tokens,
a client that enforces them): "Pay" opens one Checkout session, "Connect Stripe" connects
once, "Refund" refunds once (tests/test_once_forms.py lists these views as tested here)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import once
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing.models import CheckoutAttempt, Refund
from tests.billing.stripe_helpers import (
    connect_stripe,
    payments_of,
    sent_invoice,
    start_checkout,
)
from tests.form_helpers import form_values, token_of
from tests.stripe_server.fixtures import new_stripe_account

pytestmark = pytest.mark.django_db


def _browser(client_for, user, host):
    client = client_for(user, host)
    client.handler.enforce_csrf_checks = True
    return client


def _count(tenant, model, **filters) -> int:
    with agency_context(tenant.agency):
        return model.objects.filter(agency=tenant.agency, **filters).count()


def test_pay_sent_twice_opens_one_checkout_session(tenant, client_for, local_stripe):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=3_000)
    client = _browser(client_for, tenant.requester, tenant.host)
    page = client.get(reverse("request_detail", args=[invoice.request.number]))
    assert "Pay $30.00 by card" in page.content.decode()
    action = reverse("billing:invoice_pay", args=[invoice.pk])
    values = form_values(page, action)
    token_of(values)
    first = client.post(action, values)
    again = client.post(action, values)
    assert first.status_code == 303
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert _count(tenant, CheckoutAttempt, invoice=invoice) == 1


def test_connect_sent_twice_connects_once(tenant, client_for, local_stripe):
    account = new_stripe_account(local_stripe)
    client = _browser(client_for, tenant.admin, tenant.host)
    action = reverse("billing:stripe_connect")
    values = {
        **form_values(client.get(action), action),
        "api_key": account.api_key,
        "webhook_secret": account.webhook_secret,
    }
    first = client.post(action, values)
    again = client.post(action, values)
    assert first.status_code == again.status_code == 302
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()
    assert _count(tenant, AuditEvent, action="billing.stripe_connected") == 1


def test_refund_sent_twice_refunds_once(
    tenant, client_for, local_stripe, django_capture_on_commit_callbacks
):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=4_000)
    requester = client_for(tenant.requester, tenant.host)
    _, location, _ = local_stripe.pay(start_checkout(requester, invoice)["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        requester.get(location.split(tenant.host, 1)[1])
    [payment] = payments_of(tenant, invoice)
    client = _browser(client_for, tenant.publisher, tenant.host)
    action = reverse("billing:invoice_refund", args=[invoice.pk])
    page = client.get(reverse("billing:invoice_edit", args=[invoice.pk]))
    values = {**form_values(page, action), "amount": "15.00", "reason": "Fewer pages"}
    first = client.post(action, values)
    again = client.post(action, values)
    assert first.status_code == again.status_code == 302
    assert _count(tenant, Refund, payment=payment) == 1
