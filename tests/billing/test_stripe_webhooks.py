"""Stripe's webhooks at the agency's endpoint, from the local Stripe (events it made and signed
for real with the account's test secret): a valid event marks the invoice paid; a forged
signature, a replay outside the tolerance, an event about another account or agency are
refused and record nothing; a repeated event is ignored; events out of order (the refund
before the payment, the PaymentIntent after the session) end in the right state."""

from __future__ import annotations

import json
import time

import pytest

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing import stripe_gateway
from billing.models import InvoiceStatus, Refund, WebhookEvent
from billing.tasks import retry_webhook_events
from requests_portal.models import RecordsRequest
from tests.billing.stripe_helpers import (
    connect_stripe,
    deliver,
    edited,
    events_of,
    payments_of,
    post_event,
    reload,
    sent_invoice,
    start_checkout,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_on_stripe(tenant, client_for, local_stripe):
    """An invoice of 42.50 paid on the local Stripe's page; no webhook delivered yet."""
    account = connect_stripe(tenant, local_stripe)
    invoice = sent_invoice(tenant, total=4_250)
    pay_url = start_checkout(client_for(tenant.requester, tenant.host), invoice)["Location"]
    assert local_stripe.pay(pay_url)[0] == 303
    return account, invoice


def _events(tenant) -> list[WebhookEvent]:
    with agency_context(tenant.agency):
        return list(WebhookEvent.objects.filter(agency=tenant.agency).order_by("pk"))


def _send(client, server, account, kind, capture, *, timestamp=None):
    [event] = events_of(server, account, kind)[-1:]
    with capture(execute=True):
        return deliver(client, server, account, event, timestamp=timestamp)


def test_a_valid_checkout_completed_event_marks_the_invoice_paid_and_resumes_the_clock(
    tenant, client_for, local_stripe, paid_on_stripe, django_capture_on_commit_callbacks, mailoutbox
):
    account, invoice = paid_on_stripe
    stripe_client = client_for(None, tenant.host)
    response = _send(
        stripe_client,
        local_stripe,
        account,
        "checkout.session.completed",
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    invoice = reload(tenant, invoice)
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_cents == 4_250
    [payment] = payments_of(tenant, invoice)
    assert payment.amount_cents == 4_250 and payment.stripe_checkout_session.startswith("cs_")
    [event] = _events(tenant)
    assert event.event_type == "checkout.session.completed" and event.processed_at is not None
    with agency_context(tenant.agency):
        request = RecordsRequest.objects.get(pk=invoice.request_id)
        assert not request.is_paused and request.release_hold == ""
        assert AuditEvent.objects.filter(
            agency=tenant.agency, action="billing.payment_recorded"
        ).exists()
    assert any(invoice.number in message.body for message in mailoutbox)


def test_a_forged_signature_is_refused_and_nothing_is_recorded(
    tenant, client_for, local_stripe, paid_on_stripe
):
    account, invoice = paid_on_stripe
    [event] = events_of(local_stripe, account, "checkout.session.completed")
    client = client_for(None, tenant.host)
    good = local_stripe.sign(account.account_id, event["payload"])
    forged_body = edited(event["payload"], id="evt_forged000000")
    t = int(time.time())
    for body, header in [
        (forged_body, good),  # the body changed after signing
        (event["payload"], f"t={t},v1={'0' * 64}"),  # a made-up signature
        (event["payload"], ""),  # none at all
        (event["payload"], "garbage"),
    ]:
        assert post_event(client, body, header).status_code == 400
    assert _events(tenant) == []
    assert payments_of(tenant, invoice) == []


def test_an_event_replayed_outside_the_tolerance_is_refused(
    tenant, client_for, local_stripe, paid_on_stripe, settings, django_capture_on_commit_callbacks
):
    account, invoice = paid_on_stripe
    settings.STRIPE_WEBHOOK_TOLERANCE = 300
    response = _send(
        client_for(None, tenant.host),
        local_stripe,
        account,
        "checkout.session.completed",
        django_capture_on_commit_callbacks,
        timestamp=int(time.time()) - 301,
    )
    assert response.status_code == 400
    assert _events(tenant) == [] and payments_of(tenant, invoice) == []


def test_a_duplicate_event_is_ignored_and_paid_once(
    tenant, client_for, local_stripe, paid_on_stripe, django_capture_on_commit_callbacks
):
    account, invoice = paid_on_stripe
    client = client_for(None, tenant.host)
    send = lambda: _send(  # noqa: E731
        client,
        local_stripe,
        account,
        "checkout.session.completed",
        django_capture_on_commit_callbacks,
    )
    assert send().json()["duplicate"] is False
    again = send()
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert len(_events(tenant)) == 1
    assert len(payments_of(tenant, invoice)) == 1
    assert reload(tenant, invoice).paid_cents == 4_250


def test_the_payment_intent_event_after_the_session_event_changes_nothing_and_before_it_pays(
    tenant, client_for, local_stripe, paid_on_stripe, django_capture_on_commit_callbacks
):
    account, invoice = paid_on_stripe
    client = client_for(None, tenant.host)
    capture = django_capture_on_commit_callbacks
    # payment_intent.succeeded first: it records the payment...
    _send(client, local_stripe, account, "payment_intent.succeeded", capture)
    assert reload(tenant, invoice).status == InvoiceStatus.PAID
    # ...and the session's event and a repeat of the intent's find it done.
    _send(client, local_stripe, account, "checkout.session.completed", capture)
    _send(client, local_stripe, account, "charge.succeeded", capture)
    [payment] = payments_of(tenant, invoice)
    assert payment.amount_cents == 4_250
    assert reload(tenant, invoice).paid_cents == 4_250
    assert [e.outcome.split(" ")[0] for e in _events(tenant)] == ["payment", "payment", "ignored"]


def test_a_refund_event_before_the_payment_event_records_both_in_order(
    tenant, client_for, local_stripe, paid_on_stripe, django_capture_on_commit_callbacks
):
    account, invoice = paid_on_stripe
    [completed] = events_of(local_stripe, account, "checkout.session.completed")
    intent = json.loads(completed["payload"])["data"]["object"]["payment_intent"]
    # The agency refunds 10.00 in Stripe's dashboard before any event reached the portal.
    refund = stripe_gateway.create_refund(
        account.api_key,
        payment_intent=intent,
        amount_cents=1_000,
        idempotency_key="dashboard-1",
        metadata={},
    )
    client = client_for(None, tenant.host)
    capture = django_capture_on_commit_callbacks
    _send(client, local_stripe, account, "charge.refunded", capture)
    invoice = reload(tenant, invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert (invoice.paid_cents, invoice.refunded_cents) == (4_250, 1_000)
    # The late payment events change nothing; the refund's own event neither.
    _send(client, local_stripe, account, "checkout.session.completed", capture)
    _send(client, local_stripe, account, "refund.created", capture)
    invoice = reload(tenant, invoice)
    assert (invoice.paid_cents, invoice.refunded_cents) == (4_250, 1_000)
    [payment] = payments_of(tenant, invoice)
    with agency_context(tenant.agency):
        [recorded] = Refund.objects.filter(agency=tenant.agency, payment=payment)
    assert recorded.stripe_refund == refund.id and recorded.amount_cents == 1_000


def test_an_event_about_another_account_or_agency_is_refused(
    tenant, other_tenant, client_for, local_stripe, paid_on_stripe
):
    account, invoice = paid_on_stripe
    [event] = events_of(local_stripe, account, "checkout.session.completed")
    client = client_for(None, tenant.host)
    # Another agency's account signs with its own secret: not this endpoint's.
    theirs = connect_stripe(other_tenant, local_stripe, name="Bravo")
    other_signature = local_stripe.sign(theirs.account_id, event["payload"])
    assert post_event(client, event["payload"], other_signature).status_code == 400
    # Signed with this agency's secret but naming another Stripe account (Connect) ...
    body = edited(event["payload"], account=theirs.account_id)
    response = post_event(client, body, local_stripe.sign(account.account_id, body))
    assert response.status_code == 400
    # ... or another agency in the metadata the portal gave the session.
    payload = json.loads(event["payload"])
    payload["data"]["object"]["metadata"]["agency_id"] = str(other_tenant.agency.pk)
    body = json.dumps(payload)
    response = post_event(client, body, local_stripe.sign(account.account_id, body))
    assert response.status_code == 400
    assert _events(tenant) == [] and payments_of(tenant, invoice) == []
    with agency_context(tenant.agency):
        assert (
            AuditEvent.objects.filter(
                agency=tenant.agency, action="billing.webhook_refused"
            ).count()
            == 2
        )


def test_an_agency_without_stripe_answers_404_and_other_methods_and_big_bodies_are_refused(
    tenant, other_tenant, client_for, local_stripe
):
    client = client_for(None, other_tenant.host)
    assert post_event(client, "{}", "t=1,v1=00").status_code == 404
    assert client.get("/billing/stripe/webhook/").status_code == 405
    connect_stripe(tenant, local_stripe)
    big = "x" * (300 * 1024)
    assert post_event(client_for(None, tenant.host), big, "t=1,v1=00").status_code == 413


def test_an_event_for_a_voided_invoice_is_kept_and_flagged_for_staff(
    tenant, client_for, local_stripe, paid_on_stripe, django_capture_on_commit_callbacks
):
    account, invoice = paid_on_stripe
    with agency_context(tenant.agency):
        type(invoice).objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID)
    response = _send(
        client_for(None, tenant.host),
        local_stripe,
        account,
        "checkout.session.completed",
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    assert payments_of(tenant, invoice) == []
    [event] = _events(tenant)
    assert event.outcome.startswith("not recorded:")
    with agency_context(tenant.agency):
        assert AuditEvent.objects.filter(
            agency=tenant.agency, action="billing.webhook_unapplied"
        ).exists()


def test_stripe_down_while_processing_leaves_the_event_for_the_retry_sweep(
    tenant, client_for, local_stripe, paid_on_stripe, django_capture_on_commit_callbacks
):
    account, invoice = paid_on_stripe
    [completed] = events_of(local_stripe, account, "checkout.session.completed")
    intent = json.loads(completed["payload"])["data"]["object"]["payment_intent"]
    stripe_gateway.create_refund(
        account.api_key,
        payment_intent=intent,
        amount_cents=4_250,
        idempotency_key="d-2",
        metadata={},
    )
    [refunded] = events_of(local_stripe, account, "charge.refunded")
    header = local_stripe.sign(account.account_id, refunded["payload"])
    local_stripe.behave(down=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client_for(None, tenant.host), refunded["payload"], header)
    assert response.status_code == 200
    [event] = _events(tenant)
    assert event.processed_at is None and event.outcome.startswith("waiting")
    assert payments_of(tenant, invoice) == []
    local_stripe.behave()
    with agency_context(tenant.agency):
        WebhookEvent.objects.filter(pk=event.pk).update(
            received_at=event.received_at.replace(year=2020)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_webhook_events(agency_id=tenant.agency.pk) == 1
    invoice = reload(tenant, invoice)
    assert invoice.status == InvoiceStatus.REFUNDED
    assert (invoice.paid_cents, invoice.refunded_cents) == (4_250, 4_250)


def test_a_payment_the_portal_did_not_ask_for_is_stored_and_ignored(
    tenant, client_for, local_stripe, django_capture_on_commit_callbacks
):
    """The agency's Stripe account may sell other things: such events change nothing."""
    from billing import stripe_gateway as gateway

    account = connect_stripe(tenant, local_stripe)
    session = gateway.create_checkout_session(
        account.api_key,
        amount_cents=900,
        currency="usd",
        description="Parking permit",
        metadata={},
        client_reference_id="parking",
        success_url="http://example.test/ok",
        cancel_url="http://example.test/no",
        expires_at=int(time.time()) + 3_600,
        idempotency_key="parking-1",
    )
    local_stripe.pay(session.url)
    response = _send(
        client_for(None, tenant.host),
        local_stripe,
        account,
        "checkout.session.completed",
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    [event] = _events(tenant)
    assert event.outcome == "ignored: not a payment the portal asked for"
    with agency_context(tenant.agency):
        assert not AuditEvent.objects.filter(
            agency=tenant.agency, action="billing.webhook_unapplied"
        ).exists()
