"""The requester pays by card on Stripe's hosted page (the local Stripe): "Pay" opens a
Checkout session for what is due now, in the agency's currency, and sends the browser there;
a double click reuses it; the return page confirms with Stripe when the webhook is late;
an invoice that is not owed, or not the person's, cannot be paid; a Stripe that is down or
slow leaves nothing recorded and no server error."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from billing.models import CheckoutAttempt, InvoiceStatus
from requests_portal.models import RecordsRequest
from tests.billing.stripe_helpers import (
    connect_stripe,
    payments_of,
    reload,
    sent_invoice,
    start_checkout,
)

pytestmark = pytest.mark.django_db


def _session(server, account, url: str) -> dict:
    session_id = url.rsplit("/", 1)[1]
    store = server.server.store
    with store.lock:
        return dict(store.objects[session_id])


def _attempts(tenant, invoice) -> list[CheckoutAttempt]:
    with agency_context(tenant.agency):
        return list(CheckoutAttempt.objects.filter(agency=tenant.agency, invoice=invoice))


def test_pay_opens_a_checkout_session_for_the_deposit_first_in_the_agency_currency(
    tenant, client_for, local_stripe
):
    account = connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=10_000, deposit=2_500, currency="cad")
    response = start_checkout(client_for(tenant.requester, tenant.host), invoice)
    assert response.status_code == 303
    assert response["Location"].startswith(local_stripe.base + "/c/pay/cs_test_")
    session = _session(local_stripe, account, response["Location"])
    assert session["amount_total"] == 2_500
    assert session["currency"] == "cad"
    assert session["mode"] == "payment"
    assert session["metadata"]["invoice_id"] == str(invoice.pk)
    assert session["metadata"]["agency_id"] == str(tenant.agency.pk)
    assert session["_intent_metadata"]["invoice_id"] == str(invoice.pk)
    assert session["client_reference_id"] == f"invoice-{invoice.pk}"
    assert session["success_url"].startswith(f"http://{tenant.host}/invoices/{invoice.pk}/")
    assert session["success_url"].endswith("session_id={CHECKOUT_SESSION_ID}")
    [attempt] = _attempts(tenant, invoice)
    assert attempt.amount_cents == 2_500 and attempt.is_deposit


def test_a_double_click_reuses_the_same_session(tenant, client_for, local_stripe):
    account = connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant)
    client = client_for(tenant.requester, tenant.host)
    first = start_checkout(client, invoice)
    again = start_checkout(client, invoice)
    assert first["Location"] == again["Location"]
    assert len(_attempts(tenant, invoice)) == 1
    sessions = [
        o
        for o in local_stripe.server.store.objects.values()
        if o["object"] == "checkout.session" and o["_account"] == account.account_id
    ]
    assert len(sessions) == 1


def test_paying_on_stripe_and_coming_back_confirms_before_the_webhook_arrives(
    tenant, client_for, local_stripe, django_capture_on_commit_callbacks
):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=4_250)
    client = client_for(tenant.requester, tenant.host)
    pay_url = start_checkout(client, invoice)["Location"]
    status, location, page = local_stripe.pay(pay_url, "4000 0000 0000 0002")
    assert status == 402 and "Your card was declined." in page
    status, location, _ = local_stripe.pay(pay_url)
    assert status == 303
    assert location.startswith(f"http://{tenant.host}/invoices/{invoice.pk}/pay/done/")
    path = location.split(tenant.host, 1)[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(path)
    assert response.status_code == 200
    text = response.content.decode()
    assert "your payment is being confirmed" in text
    assert "is paid" in text
    invoice = reload(tenant, invoice)
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_cents == 4_250
    [payment] = payments_of(tenant, invoice)
    assert payment.method == "card" and payment.stripe_payment_intent.startswith("pi_")
    with agency_context(tenant.agency):
        records_request = RecordsRequest.objects.get(pk=invoice.request_id)
    assert not records_request.is_paused
    assert records_request.release_hold == ""
    # Coming back again changes nothing.
    assert client.get(path).status_code == 200
    assert len(payments_of(tenant, invoice)) == 1


def test_a_made_up_session_on_the_return_page_is_404(tenant, client_for, local_stripe):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant)
    client = client_for(tenant.requester, tenant.host)
    url = reverse("billing:pay_return", args=[invoice.pk])
    assert client.get(url + "?session_id=cs_test_madeup").status_code == 404
    assert client.get(url + "?session_id=<script>").status_code == 404
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (InvoiceStatus.VOID, "cannot be paid"),
        (InvoiceStatus.PAID, "already paid"),
    ],
)
def test_a_void_or_paid_invoice_cannot_be_paid(tenant, client_for, local_stripe, status, message):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, status=status, pause=False)
    client = client_for(tenant.requester, tenant.host)
    response = start_checkout(client, invoice)
    assert response.status_code == 302
    assert message in client.get(response["Location"]).content.decode()
    assert _attempts(tenant, invoice) == []


def test_a_draft_or_another_persons_invoice_is_404(
    tenant, other_tenant, outsider, client_for, local_stripe
):
    connect_stripe(tenant, local_stripe)
    draft = sent_invoice(tenant, status=InvoiceStatus.DRAFT, pause=False)
    assert start_checkout(client_for(tenant.requester, tenant.host), draft).status_code == 404
    someone_else = other_tenant.requester  # a resident with no part in this request
    invoice = sent_invoice(tenant)
    assert start_checkout(client_for(someone_else, tenant.host), invoice).status_code == 404
    assert start_checkout(client_for(outsider, tenant.host), invoice).status_code == 404
    assert start_checkout(client_for(None, tenant.host), invoice).status_code == 404
    assert _attempts(tenant, invoice) == []


def test_a_guest_pays_through_the_tracking_link(tenant, client_for, local_stripe):
    from requests_portal.tracking import tracking_token
    from tests.requests_portal.helpers import file_request

    connect_stripe(tenant, local_stripe)
    records_request = file_request(tenant, email="guest@example.test", name="Guest")
    invoice = sent_invoice(tenant, records_request)
    guest = client_for(None, tenant.host)
    assert start_checkout(guest, invoice).status_code == 404
    token = tracking_token(records_request)
    response = start_checkout(guest, invoice, tracking=token)
    assert response.status_code == 303


def test_an_agency_without_stripe_says_so(tenant, client_for, local_stripe):
    invoice = sent_invoice(tenant)
    client = client_for(tenant.requester, tenant.host)
    response = start_checkout(client, invoice)
    assert response.status_code == 302
    assert "does not take card payments online" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("trouble", [{"down": True}, {"delay": 3.0}, {"failing": True}])
def test_stripe_down_or_slow_says_nothing_was_charged_and_records_nothing(
    tenant, client_for, local_stripe, trouble
):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant)
    local_stripe.behave(**trouble)
    client = client_for(tenant.requester, tenant.host)
    response = start_checkout(client, invoice)
    assert response.status_code == 302
    local_stripe.behave()
    page = client.get(response["Location"]).content.decode()
    assert "Stripe did not answer; nothing was charged. Try again in a minute." in page
    assert _attempts(tenant, invoice) == []
    assert reload(tenant, invoice).status == InvoiceStatus.SENT
    # Once Stripe answers again, paying works.
    assert start_checkout(client, invoice).status_code == 303


def test_the_return_page_when_stripe_is_down_says_it_is_still_confirming(
    tenant, client_for, local_stripe
):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant)
    client = client_for(tenant.requester, tenant.host)
    pay_url = start_checkout(client, invoice)["Location"]
    _, location, _ = local_stripe.pay(pay_url)
    local_stripe.behave(down=True)
    response = client.get(location.split(tenant.host, 1)[1])
    assert response.status_code == 200
    assert "has not confirmed the payment" in response.content.decode()
    assert payments_of(tenant, invoice) == []
    assert json.dumps(reload(tenant, invoice).status) == '"sent"'


def test_the_invoice_page_offers_pay_to_its_requester_only_while_owed(
    tenant, client_for, local_stripe
):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=1_999)
    page = reverse("billing:invoice_page", args=[invoice.pk])
    text = client_for(tenant.requester, tenant.host).get(page).content.decode()
    assert "Pay $19.99 by card" in text
    assert reverse("billing:invoice_pay", args=[invoice.pk]) in text
    staff_view = client_for(tenant.publisher, tenant.host).get(page).content.decode()
    assert "by card" not in staff_view
    with agency_context(tenant.agency):
        type(invoice).objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID)
    text = client_for(tenant.requester, tenant.host).get(page).content.decode()
    assert "by card" not in text


def test_the_return_page_on_another_agencys_host_is_404(
    tenant, other_tenant, outsider, client_for, local_stripe
):
    connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant)
    pay_url = start_checkout(client_for(tenant.requester, tenant.host), invoice)["Location"]
    session_id = pay_url.rsplit("/", 1)[1]
    path = reverse("billing:pay_return", args=[invoice.pk]) + f"?session_id={session_id}"
    assert client_for(outsider, other_tenant.host).get(path).status_code == 404
    assert client_for(outsider, tenant.host).get(path).status_code == 200  # the id is the proof
