"""Sending pauses the clock and holds the records; payments (by card or offline) resume the
clock with the days that remained and lift the hold; each payment and refund is recorded
once; void lifts what sending did."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing.errors import BillingError
from billing.models import InvoiceStatus, Payment, PaymentMethod, Refund
from billing.services import payments, sending
from documents.errors import DocumentError
from documents.models import ReleaseLevel
from documents.release import document_release
from requests_portal import deadlines
from requests_portal.models import Status, TimelineEvent
from requests_portal.services import clock
from tests.billing.helpers import payments_of, reloaded, sent_invoice, set_schedule
from tests.documents.helpers import pdf_with_text, stored_document
from tests.requests_portal.helpers import file_request, reload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agency_defaults")]


@pytest.fixture
def filed(tenant):
    return file_request(tenant, requester=tenant.requester, email="resident@example.test")


def _pay(tenant, invoice, amount, **extra):
    extra.setdefault("method", PaymentMethod.CARD)
    with agency_context(tenant.agency):
        return payments.record_payment(invoice=invoice, amount_cents=amount, **extra)


def _calendar(tenant):
    with agency_context(tenant.agency):
        return clock.calendar_for(tenant.agency, clock.settings_for(tenant.agency))


@pytest.mark.clock
def test_sending_pauses_the_clock_and_paying_the_deposit_resumes_it_with_the_days_left(
    tenant, filed, django_capture_on_commit_callbacks
):
    set_schedule(tenant, pause_clock_when_sent=True, hold_release_until_paid=True)
    due_before = reload(tenant, filed).due_date
    with django_capture_on_commit_callbacks(execute=True):
        invoice = sent_invoice(tenant, filed, unit_cents=4000, deposit=1000)
    paused = reload(tenant, filed)
    assert paused.status == Status.PAUSED
    assert paused.pause_reason == f"Waiting for payment of {invoice.number}"
    assert paused.remaining_days == deadlines.remaining_days(
        timezone.now(),
        due_before,
        deadlines.CountingMethod(paused.counting_method),
        _calendar(tenant),
    )
    assert paused.release_hold
    assert invoice.paused_clock
    # The requester was emailed the amount and a link to the invoice page.
    [email] = [m for m in mail.outbox if "resident@example.test" in m.to]
    assert invoice.number in email.subject
    assert "$40.00" in email.body and "$10.00" in email.body
    assert f"/invoices/{invoice.pk}/?t=" in email.body

    # Ten days later the deposit is paid: the clock restarts with the days that remained.
    later = timezone.now() + datetime.timedelta(days=10)
    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        django_capture_on_commit_callbacks(execute=True),
    ):
        payment = _pay(tenant, invoice, 1000, stripe_payment_intent="pi_deposit")
    resumed = reload(tenant, filed)
    assert resumed.status == Status.OPEN or resumed.status == Status.SUBMITTED
    assert resumed.due_date == deadlines.resume(
        later,
        paused.remaining_days,
        deadlines.CountingMethod(paused.counting_method),
        _calendar(tenant),
    )
    assert payment.is_deposit
    invoice = reloaded(tenant, invoice)
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.balance_cents == 3000
    # Still held until everything is paid.
    assert resumed.release_hold
    # A receipt was emailed.
    assert any("receipt" in m.subject.lower() for m in mail.outbox)

    _pay(tenant, invoice, 3000, stripe_payment_intent="pi_rest")
    invoice = reloaded(tenant, invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid_at is not None
    assert reload(tenant, filed).release_hold == ""


def test_records_are_held_until_the_invoice_is_paid(tenant, filed):
    set_schedule(tenant, pause_clock_when_sent=False, hold_release_until_paid=True)
    document = stored_document(filed, pdf_with_text("Minutes"))
    invoice = sent_invoice(tenant, filed)
    assert reload(tenant, filed).status != Status.PAUSED
    with agency_context(tenant.agency), pytest.raises(DocumentError, match="held"):
        document_release(document=document, level=ReleaseLevel.REQUESTER, actor=tenant.publisher)
    _pay(tenant, invoice, 2500, method=PaymentMethod.CASH)
    with agency_context(tenant.agency):
        released = document_release(
            document=document, level=ReleaseLevel.REQUESTER, actor=tenant.publisher
        )
    assert released.release == ReleaseLevel.REQUESTER


def test_record_payment_is_idempotent_by_payment_intent_and_refuses_what_is_not_owed(tenant, filed):
    set_schedule(tenant, pause_clock_when_sent=False, hold_release_until_paid=False)
    invoice = sent_invoice(tenant, filed, unit_cents=5000)
    first = _pay(tenant, invoice, 2000, stripe_payment_intent="pi_1")
    again = _pay(tenant, invoice, 2000, stripe_payment_intent="pi_1")
    assert again.pk == first.pk
    assert reloaded(tenant, invoice).paid_cents == 2000
    for amount in (0, -5, 3001, 10_000_001, 12.5, "100", True):
        with pytest.raises(BillingError):
            _pay(tenant, invoice, amount)
    with pytest.raises(BillingError, match="how the payment"):
        _pay(tenant, invoice, 100, method="bitcoin")
    _pay(tenant, invoice, 3000)
    with pytest.raises(BillingError, match="already paid"):
        _pay(tenant, invoice, 1)
    assert len(payments_of(tenant, invoice)) == 2
    with agency_context(tenant.agency):
        recorded = AuditEvent.objects.filter(
            agency=tenant.agency, action="billing.payment_recorded"
        ).count()
    assert recorded == 2


def test_drafts_and_void_invoices_cannot_be_paid(tenant, filed):
    from tests.billing.helpers import add_line, draft

    invoice = draft(tenant, filed)
    add_line(tenant, invoice, unit_cents=100)
    with pytest.raises(BillingError, match="not been sent"):
        _pay(tenant, invoice, 100)
    with agency_context(tenant.agency):
        sending.invoice_void(invoice=invoice, actor=tenant.publisher, reason="Mistake")
    with pytest.raises(BillingError, match="voided"):
        _pay(tenant, invoice, 100)


@pytest.mark.clock
def test_voiding_a_sent_invoice_lifts_the_hold_and_resumes_the_clock(tenant, filed):
    set_schedule(tenant, pause_clock_when_sent=True, hold_release_until_paid=True)
    invoice = sent_invoice(tenant, filed)
    assert reload(tenant, filed).status == Status.PAUSED
    with agency_context(tenant.agency), pytest.raises(BillingError, match="reason"):
        sending.invoice_void(invoice=invoice, actor=tenant.publisher, reason="  ")
    with agency_context(tenant.agency):
        sending.invoice_void(invoice=invoice, actor=tenant.publisher, reason="Fee waived by law")
    after = reload(tenant, filed)
    assert after.status != Status.PAUSED
    assert after.release_hold == ""
    invoice = reloaded(tenant, invoice)
    assert invoice.status == InvoiceStatus.VOID
    assert invoice.void_reason == "Fee waived by law"
    with agency_context(tenant.agency):
        kinds = list(
            TimelineEvent.objects.filter(request_id=filed.pk, is_public=True).values_list(
                "kind", flat=True
            )
        )
    assert "invoice_voided" in kinds


def test_a_paid_in_part_invoice_is_voided_only_after_refunding(tenant, filed):
    set_schedule(tenant, pause_clock_when_sent=False, hold_release_until_paid=True)
    invoice = sent_invoice(tenant, filed, unit_cents=4000, deposit=1000)
    payment = _pay(tenant, invoice, 1000, method=PaymentMethod.CHEQUE, reference="1042")
    with agency_context(tenant.agency), pytest.raises(BillingError, match="refund it"):
        sending.invoice_void(invoice=invoice, actor=tenant.publisher, reason="Withdrawn")
    with agency_context(tenant.agency):
        payments.record_refund(
            payment=payment, amount_cents=1000, reason="Request withdrawn", actor=tenant.publisher
        )
    invoice = reloaded(tenant, invoice)
    assert invoice.status == InvoiceStatus.REFUNDED
    assert reload(tenant, filed).release_hold == ""


def test_offline_payment_needs_a_reference_for_a_cheque(tenant, filed):
    set_schedule(tenant, pause_clock_when_sent=False, hold_release_until_paid=False)
    invoice = sent_invoice(tenant, filed)
    with agency_context(tenant.agency):
        with pytest.raises(BillingError, match="cheque number"):
            sending.invoice_pay_offline(
                invoice=invoice,
                actor=tenant.publisher,
                amount_cents=2500,
                method=PaymentMethod.CHEQUE,
                reference="",
            )
        with pytest.raises(BillingError, match="cheque, cash or other"):
            sending.invoice_pay_offline(
                invoice=invoice,
                actor=tenant.publisher,
                amount_cents=2500,
                method=PaymentMethod.CARD,
                reference="x",
            )
        payment = sending.invoice_pay_offline(
            invoice=invoice,
            actor=tenant.publisher,
            amount_cents=2500,
            method=PaymentMethod.CHEQUE,
            reference="Cheque 1042",
        )
    assert payment.recorded_by == tenant.publisher
    assert reloaded(tenant, invoice).status == InvoiceStatus.PAID


def test_refunds_are_counted_once_and_never_exceed_the_payment(tenant, filed):
    set_schedule(tenant, pause_clock_when_sent=False, hold_release_until_paid=False)
    invoice = sent_invoice(tenant, filed, unit_cents=5000)
    payment = _pay(tenant, invoice, 5000, stripe_payment_intent="pi_full")
    with agency_context(tenant.agency):
        first = payments.record_refund(
            payment=payment,
            amount_cents=2000,
            reason="Fewer pages",
            stripe_refund="re_1",
            actor=None,
        )
        again = payments.record_refund(
            payment=payment,
            amount_cents=2000,
            reason="Fewer pages",
            stripe_refund="re_1",
            actor=None,
        )
        assert again.pk == first.pk
        with pytest.raises(BillingError, match="At most"):
            payments.record_refund(
                payment=payment, amount_cents=3001, reason="Too much", actor=tenant.publisher
            )
        with pytest.raises(BillingError, match="why"):
            payments.record_refund(payment=payment, amount_cents=10, reason="", actor=None)
    invoice = reloaded(tenant, invoice)
    assert (invoice.status, invoice.refunded_cents) == (InvoiceStatus.PAID, 2000)
    with agency_context(tenant.agency):
        payments.record_refund(
            payment=payment, amount_cents=3000, reason="Withdrawn", stripe_refund="re_2", actor=None
        )
        assert Payment.objects.get(pk=payment.pk).refunded_cents == 5000
        assert Refund.objects.filter(payment_id=payment.pk).count() == 2
    assert reloaded(tenant, invoice).status == InvoiceStatus.REFUNDED
