"""Staff who may invoice give money back: a card payment through Stripe (full or partial,
once however often the form is sent), an offline payment recorded only; too much, no reason
or Stripe down are refused with a message and nothing recorded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from billing.models import InvoiceStatus, PaymentMethod, Refund
from billing.services.payments import record_payment
from tests.billing.stripe_helpers import (
    connect_stripe,
    deliver,
    events_of,
    payments_of,
    reload,
    sent_invoice,
    start_checkout,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_payment(tenant, client_for, local_stripe, django_capture_on_commit_callbacks):
    account = connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=4_250)
    requester = client_for(tenant.requester, tenant.host)
    _, location, _ = local_stripe.pay(start_checkout(requester, invoice)["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        assert requester.get(location.split(tenant.host, 1)[1]).status_code == 200
    [payment] = payments_of(tenant, invoice)
    return account, invoice, payment


def _refund(client, invoice, payment, amount: str, reason: str = "Records were not found"):
    return client.post(
        reverse("billing:invoice_refund", args=[invoice.pk]),
        {"payment": payment.pk, "amount": amount, "reason": reason},
    )


def _refunds(tenant, payment) -> list[Refund]:
    with agency_context(tenant.agency):
        return list(Refund.objects.filter(agency=tenant.agency, payment=payment).order_by("pk"))


def _stripe_refunds(server, account) -> list[dict]:
    store = server.server.store
    with store.lock:
        return [
            o
            for o in store.objects.values()
            if o["object"] == "refund" and o["_account"] == account.account_id
        ]


def test_a_partial_then_full_card_refund_goes_through_stripe_once_each(
    tenant, client_for, local_stripe, card_payment, django_capture_on_commit_callbacks
):
    account, invoice, payment = card_payment
    client = client_for(tenant.publisher, tenant.host)
    response = _refund(client, invoice, payment, "10.00")
    assert response.status_code == 302
    [refund] = _refunds(tenant, payment)
    assert refund.amount_cents == 1_000 and refund.stripe_refund.startswith("re_")
    [on_stripe] = _stripe_refunds(local_stripe, account)
    assert on_stripe["amount"] == 1_000 and on_stripe["id"] == refund.stripe_refund
    invoice = reload(tenant, invoice)
    assert invoice.status == InvoiceStatus.PAID and invoice.refunded_cents == 1_000
    # Stripe's charge.refunded webhook that follows finds it recorded.
    [event] = events_of(local_stripe, account, "charge.refunded")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            deliver(client_for(None, tenant.host), local_stripe, account, event).status_code == 200
        )
    assert len(_refunds(tenant, payment)) == 1
    # The rest.
    assert _refund(client, invoice, payment, "32.50").status_code == 302
    invoice = reload(tenant, invoice)
    assert invoice.status == InvoiceStatus.REFUNDED and invoice.refunded_cents == 4_250
    assert len(_stripe_refunds(local_stripe, account)) == 2


def test_too_much_no_reason_or_a_bad_amount_is_refused(
    tenant, client_for, local_stripe, card_payment
):
    account, invoice, payment = card_payment
    client = client_for(tenant.publisher, tenant.host)
    for amount, reason, message in [
        ("42.51", "x", "At most $42.50"),
        ("10", "", "This field is required"),
        ("-5", "x", "not negative"),
        ("0", "x", "above zero"),
        ("1.234", "x", "two decimals"),
        ("200000", "x", "at most"),
    ]:
        response = _refund(client, invoice, payment, amount, reason)
        assert response.status_code == 302
        assert message in client.get(response["Location"]).content.decode(), amount
    assert _refunds(tenant, payment) == []
    assert _stripe_refunds(local_stripe, account) == []


def test_stripe_down_refunds_nothing_and_says_so(tenant, client_for, local_stripe, card_payment):
    _account, invoice, payment = card_payment
    client = client_for(tenant.publisher, tenant.host)
    local_stripe.behave(down=True)
    response = _refund(client, invoice, payment, "5.00")
    local_stripe.behave()
    assert "Stripe did not answer" in client.get(response["Location"]).content.decode()
    assert _refunds(tenant, payment) == []
    assert reload(tenant, invoice).refunded_cents == 0


def test_an_offline_payment_refund_is_recorded_without_stripe(tenant, client_for, local_stripe):
    account = connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=2_000)
    with agency_context(tenant.agency):
        payment = record_payment(
            invoice=invoice,
            amount_cents=2_000,
            method=PaymentMethod.CHEQUE,
            reference="Cheque 1042",
            actor=tenant.publisher,
        )
    client = client_for(tenant.publisher, tenant.host)
    assert _refund(client, invoice, payment, "20.00").status_code == 302
    [refund] = _refunds(tenant, payment)
    assert refund.stripe_refund == "" and refund.amount_cents == 2_000
    assert _stripe_refunds(local_stripe, account) == []
    assert reload(tenant, invoice).status == InvoiceStatus.REFUNDED


def test_the_refund_form_is_on_the_invoice_editor_for_those_who_may_refund(
    tenant, client_for, local_stripe, card_payment
):
    _, invoice, _payment = card_payment
    editor = reverse("billing:invoice_edit", args=[invoice.pk])
    page = client_for(tenant.publisher, tenant.host).get(editor).content.decode()
    assert reverse("billing:invoice_refund", args=[invoice.pk]) in page
    page = client_for(tenant.staff, tenant.host).get(editor)
    assert reverse("billing:invoice_refund", args=[invoice.pk]) not in page.content.decode()


def test_staff_without_the_permission_get_403_and_outsiders_404(
    tenant, outsider, client_for, local_stripe, card_payment
):
    _account, invoice, payment = card_payment
    assert (
        _refund(client_for(tenant.staff, tenant.host), invoice, payment, "1.00").status_code == 403
    )
    assert _refund(client_for(outsider, tenant.host), invoice, payment, "1.00").status_code == 404
    assert (
        _refund(client_for(tenant.requester, tenant.host), invoice, payment, "1.00").status_code
        == 404
    )
    assert _refunds(tenant, payment) == []
