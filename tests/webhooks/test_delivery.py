"""Each of the five facts becomes exactly one signed delivery once its change commits, none
when it rolls back; a receiver that fails is tried again with backoff, then gets it; the
payload carries no personal data."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing.models import PaymentMethod
from billing.services import payments
from documents.models import ReleaseLevel
from documents.release import document_release
from requests_portal.services import lifecycle
from tests.billing.helpers import sent_invoice, set_schedule
from tests.documents.helpers import pdf_with_text, stored_document
from tests.requests_portal.helpers import closure_reason, file_request, reload
from tests.webhooks.helpers import deliveries, endpoint
from tests.webhooks.receiver import verify
from webhooks import services
from webhooks.models import DeliveryState, EventType

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agency_defaults")]


def _acknowledge(tenant, records_request):
    with agency_context(tenant.agency):
        lifecycle.request_acknowledge(
            records_request=reload(tenant, records_request), actor=tenant.publisher
        )


def _close(tenant, records_request):
    with agency_context(tenant.agency):
        lifecycle.request_close(
            records_request=reload(tenant, records_request),
            actor=tenant.publisher,
            reason=closure_reason(tenant, "Records released in full"),
        )


def _release(tenant, records_request):
    document = stored_document(records_request, pdf_with_text("Minutes"), actor=tenant.staff)
    with agency_context(tenant.agency):
        document_release(document=document, level=ReleaseLevel.REQUESTER, actor=tenant.publisher)


def _pay(tenant, records_request):
    set_schedule(tenant, pause_clock_when_sent=False)
    invoice = sent_invoice(tenant, records_request, unit_cents=2500)
    with agency_context(tenant.agency):
        payments.record_payment(invoice=invoice, amount_cents=2500, method=PaymentMethod.CASH)


def _file(tenant):
    return file_request(tenant, requester=tenant.requester, email="resident@example.test")


FACTS = {
    EventType.REQUEST_CREATED: lambda tenant, filed: _file(tenant),
    EventType.REQUEST_UPDATED: _acknowledge,
    EventType.REQUEST_CLOSED: _close,
    EventType.DOCUMENT_RELEASED: _release,
    EventType.INVOICE_PAID: _pay,
}


@pytest.mark.parametrize("event", list(FACTS), ids=str)
def test_each_fact_is_delivered_once_signed_after_its_commit(
    tenant, receiver, event, django_capture_on_commit_callbacks
):
    filed = _file(tenant) if event != EventType.REQUEST_CREATED else None
    hook, secret = endpoint(tenant, receiver.url(), [event])
    with django_capture_on_commit_callbacks(execute=True):
        FACTS[event](tenant, filed)
        # Written with the change, sent only once it commits.
        assert [d.event for d in deliveries(tenant)] == [event]
        assert receiver.received == []
    [delivery] = deliveries(tenant)
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.last_response_ms is not None
    [got] = receiver.received
    assert got.path == "/hooks"
    assert verify(secret, got.headers["x-portal-signature"], got.body)
    assert not verify("whsec_another", got.headers["x-portal-signature"], got.body)
    assert got.headers["x-portal-event-id"] == str(delivery.event_id)
    assert got.headers["x-portal-event"] == event
    assert got.payload["type"] == event
    assert got.payload["id"] == str(delivery.event_id)
    assert got.payload["agency"] == tenant.agency.slug
    # Ids, states, times and links; nothing of the requester.
    text = got.body.decode()
    for personal in ("resident@example.test", tenant.requester.email, "Council minutes"):
        assert personal not in text
    assert hook.pk == delivery.endpoint_id


@pytest.mark.parametrize("event", list(FACTS), ids=str)
def test_a_change_that_rolls_back_leaves_no_delivery(
    tenant, receiver, event, django_capture_on_commit_callbacks
):
    filed = _file(tenant) if event != EventType.REQUEST_CREATED else None
    endpoint(tenant, receiver.url(), [event])
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        FACTS[event](tenant, filed)
        raise RuntimeError("the change fails after its facts were recorded")
    assert deliveries(tenant) == []
    assert receiver.received == []


def test_no_delivery_to_another_agency_nor_to_a_turned_off_address(
    tenant, other_tenant, receiver, django_capture_on_commit_callbacks
):
    endpoint(other_tenant, receiver.url())
    hook, _secret = endpoint(tenant, receiver.url())
    with agency_context(tenant.agency):
        services.endpoint_set_active(endpoint=hook, active=False, actor=tenant.admin)
    with django_capture_on_commit_callbacks(execute=True):
        _file(tenant)
    assert deliveries(tenant) == []
    assert deliveries(other_tenant) == []
    assert receiver.received == []


def test_a_failing_receiver_is_tried_again_with_backoff_then_gets_it(
    tenant, receiver, django_capture_on_commit_callbacks
):
    endpoint(tenant, receiver.url(), [EventType.REQUEST_CREATED])
    receiver.answers = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        _file(tenant)
    [delivery] = deliveries(tenant)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert datetime.timedelta(seconds=48) <= first_wait <= datetime.timedelta(seconds=72)
    # The sweep before the wait is over sends nothing.
    with agency_context(tenant.agency):
        assert services.deliveries_send_due(agency=tenant.agency) == 0
    later = delivery.next_attempt_at + datetime.timedelta(seconds=1)
    with agency_context(tenant.agency):
        assert services.deliveries_send_due(agency=tenant.agency, now=later) == 1
    [delivery] = deliveries(tenant)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 2, 503)
    second_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert datetime.timedelta(seconds=240) <= second_wait <= datetime.timedelta(seconds=360)
    with agency_context(tenant.agency):
        services.deliveries_send_due(agency=tenant.agency, now=delivery.next_attempt_at)
    [delivery] = deliveries(tenant)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert [r.answered for r in receiver.received] == [500, 503, 200]
    # The same event, the same bytes, every try; each try signed afresh.
    assert len({r.body for r in receiver.received}) == 1
    assert len({r.headers["x-portal-event-id"] for r in receiver.received}) == 1


def test_after_eight_failed_tries_the_delivery_is_failed_and_audited(
    tenant, receiver, django_capture_on_commit_callbacks
):
    endpoint(tenant, receiver.url(), [EventType.REQUEST_CREATED])
    receiver.answers = [500] * 10
    with django_capture_on_commit_callbacks(execute=True):
        _file(tenant)
    now = timezone.now()
    for _ in range(services.MAX_ATTEMPTS):
        now += datetime.timedelta(days=1)
        with agency_context(tenant.agency):
            services.deliveries_send_due(agency=tenant.agency, now=now)
    [delivery] = deliveries(tenant)
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, services.MAX_ATTEMPTS)
    assert len(receiver.received) == services.MAX_ATTEMPTS
    with agency_context(tenant.agency):
        assert AuditEvent.objects.filter(
            agency=tenant.agency, action="webhook.delivery_failed", target_id=str(delivery.pk)
        ).exists()
    total = sum(services.BACKOFF_SECONDS)
    assert 18 * 3600 < total < 26 * 3600  # about a day


def test_updates_not_sent_yet_are_sent_once_with_the_latest_state(
    tenant, receiver, django_capture_on_commit_callbacks
):
    filed = _file(tenant)
    endpoint(tenant, receiver.url(), [EventType.REQUEST_UPDATED])
    with django_capture_on_commit_callbacks(execute=True), agency_context(tenant.agency):
        lifecycle.request_acknowledge(records_request=reload(tenant, filed), actor=tenant.publisher)
        lifecycle.request_set_visibility(
            records_request=reload(tenant, filed),
            actor=tenant.publisher,
            visibility="restricted",
        )
    [delivery] = deliveries(tenant)
    assert delivery.payload["data"]["visibility"] == "restricted"
    assert len(receiver.received) == 1


def test_a_redirect_is_not_followed(tenant, receiver, django_capture_on_commit_callbacks):
    endpoint(tenant, receiver.url(), [EventType.REQUEST_CREATED])
    receiver.answers = [302]
    with django_capture_on_commit_callbacks(execute=True):
        _file(tenant)
    [delivery] = deliveries(tenant)
    assert (delivery.state, delivery.last_status_code) == (DeliveryState.PENDING, 302)
    assert "Redirects" in delivery.last_error
    assert len(receiver.received) == 1
