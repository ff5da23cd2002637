"""The same payment recorded twice at the same moment (a webhook and the return page, or a
repeated delivery): the second waits on the request's row lock, finds the first payment and
returns it. One payment, the invoice paid once."""

from __future__ import annotations

import threading
import uuid

import pytest

from accounts.models import Agency, Role
from accounts.tenancy import agency_context
from billing.models import FeeSchedule, Invoice, InvoiceStatus, LineKind, Payment
from billing.services import invoices, payments, sending
from requests_portal.services import agency_settings, submission
from tests.db_helpers import run_in_committed_thread
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


def test_two_deliveries_of_one_payment_at_once_record_it_once():
    slug = f"pay-race-{uuid.uuid4().hex[:10]}"

    def setup():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            agency_settings.agency_setup_defaults(agency=agency, state="CA")
            FeeSchedule.objects.create(agency=agency, hold_release_until_paid=True)
            user = UserFactory()
            MembershipFactory(agency=agency, user=user, role=Role.PUBLISHER)
            records_request = submission.request_submit(
                agency=agency,
                actor=None,
                title="t",
                description="d",
                contact=submission.Contact(name="x", email="x@example.test"),
                channel="web",
            )
            invoice = invoices.invoice_create(records_request=records_request, actor=user)
            invoices.invoice_line_add(
                invoice=invoice,
                actor=user,
                kind=LineKind.CUSTOM,
                description="Copies",
                unit_cents=4200,
            )
            sending.invoice_send(invoice=invoice, actor=user)
        return agency, invoice.pk

    agency, invoice_id = run_in_committed_thread(setup)
    start = threading.Barrier(2)
    recorded: list[int] = []
    errors: list[BaseException] = []

    def deliver():
        with agency_context(agency):
            invoice = Invoice.objects.select_related("request").get(pk=invoice_id)
            start.wait(10)
            payment = payments.record_payment(
                invoice=invoice,
                amount_cents=4200,
                method="card",
                stripe_payment_intent="pi_race",
                stripe_checkout_session="cs_race",
            )
            recorded.append(payment.pk)

    def wrap():
        try:
            run_in_committed_thread(deliver)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=wrap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    def read():
        with agency_context(agency):
            invoice = Invoice.objects.get(pk=invoice_id)
            return (
                Payment.objects.filter(invoice_id=invoice_id).count(),
                invoice.status,
                invoice.paid_cents,
                invoice.request.release_hold,
            )

    assert errors == []
    assert len(recorded) == 2 and recorded[0] == recorded[1]
    assert run_in_committed_thread(read) == (1, InvoiceStatus.PAID, 4200, "")
