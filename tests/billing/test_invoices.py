"""Building a draft invoice: the amounts of every kind of line, free pages and minutes, the
staff rates' precedence, time entries billed once, one active invoice per request, totals
kept by the services, bad amounts refused, nothing editable after sending."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.local_time import agency_today
from accounts.models import Role
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing.errors import BillingError
from billing.models import FeeItem, Invoice, InvoiceLine, InvoiceStatus, LineKind
from billing.money import AmountError, parse_cents, parse_percent_bps, percent_of
from billing.services import fees, invoices, sending
from requests_portal.models import TimelineEvent
from tests.billing.helpers import add_line, draft, log_time, reloaded, sent_invoice, set_schedule
from tests.requests_portal.helpers import file_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agency_defaults")]


@pytest.fixture
def filed(tenant):
    return file_request(tenant, requester=tenant.requester)


def test_amounts_typed_as_dollars_become_integer_cents_without_float():
    assert parse_cents("12.50") == 1250
    assert parse_cents("12.5") == 1250
    assert parse_cents("12") == 1200
    assert parse_cents("$1,200.05") == 120005
    assert parse_cents("0.10") == 10
    assert parse_cents("100000.00") == 10_000_000
    for bad in ("-1", "12.505", "abc", "1e3", "", "12..5", "100000.01", "NaN", "0x10"):
        with pytest.raises(AmountError):
            parse_cents(bad)
    with pytest.raises(AmountError):
        parse_cents("0", allow_zero=False)
    assert parse_percent_bps("12.5") == 1250
    with pytest.raises(AmountError):
        parse_percent_bps("100.01")
    # Half up: 10 % of 5 cents is 0.5 → 1; 12.5 % of 333 = 41.625 → 42; of 4 → 0.5 → 1.
    assert percent_of(5, 1000) == 1
    assert percent_of(333, 1250) == 42
    assert percent_of(4, 1250) == 1
    assert percent_of(3, 1250) == 0
    assert percent_of(-5, 1000) == -1


def test_every_kind_of_line_and_the_totals(tenant, filed):
    set_schedule(tenant, paper_page_cents=10, electronic_page_cents=5, free_pages=20)
    with agency_context(tenant.agency):
        usb = FeeItem.objects.create(
            agency=tenant.agency, name="USB drive", kind="media", unit_cents=799
        )
        certified = FeeItem.objects.create(
            agency=tenant.agency, name="Certification", kind="fixed", unit_cents=1500
        )
    invoice = draft(tenant, filed)
    # 30 paper pages, 20 free → 10 x 10 = 100; then 50 electronic, no free left → 250.
    add_line(tenant, invoice, kind=LineKind.PAGES_PAPER, description="", quantity=30)
    add_line(tenant, invoice, kind=LineKind.PAGES_ELECTRONIC, description="", quantity=50)
    add_line(tenant, invoice, kind=LineKind.MEDIA, description="", quantity=2, fee_item=usb)
    add_line(tenant, invoice, kind=LineKind.FIXED, description="", fee_item=certified)
    add_line(
        tenant, invoice, kind=LineKind.CUSTOM, description="Postage", quantity=3, unit_cents=133
    )
    # So far 100 + 250 + 1598 + 1500 + 399 = 3847; 7.5 % of it = 288.525 → 289.
    add_line(tenant, invoice, kind=LineKind.PERCENT, description="", percent_bps=750)
    add_line(
        tenant, invoice, kind=LineKind.DISCOUNT, description="Returning customer", unit_cents=136
    )
    with agency_context(tenant.agency):
        amounts = list(
            InvoiceLine.objects.filter(invoice_id=invoice.pk).values_list("amount_cents", flat=True)
        )
    assert amounts == [100, 250, 1598, 1500, 399, 289, -136]
    invoice = reloaded(tenant, invoice)
    assert invoice.subtotal_cents == 4000
    assert invoice.total_cents == 4000
    assert isinstance(invoice.total_cents, int)

    with agency_context(tenant.agency):
        invoices.invoice_set_waiver(
            invoice=invoice, actor=tenant.publisher, waived_cents=1000, reason="Indigent requester"
        )
        with pytest.raises(BillingError, match="reason"):
            invoices.invoice_set_waiver(
                invoice=invoice, actor=tenant.publisher, waived_cents=10, reason=" "
            )
        with pytest.raises(BillingError, match="more than the subtotal"):
            invoices.invoice_set_waiver(
                invoice=invoice, actor=tenant.publisher, waived_cents=4001, reason="All"
            )
    invoice = reloaded(tenant, invoice)
    assert (invoice.subtotal_cents, invoice.waived_cents, invoice.total_cents) == (4000, 1000, 3000)
    assert invoice.waiver_reason == "Indigent requester"

    # Removing a line recomputes the percentage below it.
    with agency_context(tenant.agency):
        postage = InvoiceLine.objects.get(invoice_id=invoice.pk, description="Postage")
        invoices.invoice_line_remove(invoice=invoice, actor=tenant.publisher, line_id=postage.pk)
        percent_line = InvoiceLine.objects.get(invoice_id=invoice.pk, kind=LineKind.PERCENT)
    assert percent_line.amount_cents == 259  # 7.5 % of 3448 = 258.6 → 259


def test_the_deposit_follows_the_schedule_share_until_staff_type_one(tenant, filed):
    set_schedule(tenant, default_deposit_bps=2500)
    invoice = draft(tenant, filed)
    add_line(tenant, invoice, unit_cents=1001)
    assert reloaded(tenant, invoice).deposit_cents == 250  # 250.25 → 250
    add_line(tenant, invoice, unit_cents=1001)
    assert reloaded(tenant, invoice).deposit_cents == 501  # 500.5 → 501
    with agency_context(tenant.agency):
        invoices.invoice_set_deposit(invoice=invoice, actor=tenant.publisher, deposit_cents=700)
        with pytest.raises(BillingError, match="more than the invoice"):
            invoices.invoice_set_deposit(
                invoice=invoice, actor=tenant.publisher, deposit_cents=2003
            )
    add_line(tenant, invoice, unit_cents=100)
    assert reloaded(tenant, invoice).deposit_cents == 700


def test_staff_time_at_each_persons_rate_free_minutes_once_and_never_billed_twice(
    tenant, filed, client_for
):
    set_schedule(tenant, default_hourly_cents=3000, free_minutes=30)
    with agency_context(tenant.agency):
        fees.staff_rate_set(
            agency=tenant.agency, actor=tenant.admin, person=tenant.publisher, hourly_cents=6000
        )
        fees.staff_rate_set(
            agency=tenant.agency, actor=tenant.admin, role=Role.STAFF, hourly_cents=4500
        )
    log_time(tenant, filed, tenant.publisher, 60)  # own rate 60/h
    log_time(tenant, filed, tenant.publisher, 30)
    log_time(tenant, filed, tenant.staff, 40)  # the staff role's 45/h
    log_time(tenant, filed, tenant.admin, 45)  # no rate: the default 30/h
    invoice = draft(tenant, filed)
    with agency_context(tenant.agency):
        lines = invoices.invoice_add_staff_time(invoice=invoice, actor=tenant.publisher)
        by_person = {
            line.staff_id: line
            for line in InvoiceLine.objects.filter(invoice_id=invoice.pk, kind=LineKind.STAFF_TIME)
        }
    assert len(lines) == 3
    publisher, staff, admin = (
        by_person[u.pk] for u in (tenant.publisher, tenant.staff, tenant.admin)
    )
    assert (publisher.quantity, publisher.unit_cents) == (90, 6000)
    assert (staff.quantity, staff.unit_cents) == (40, 4500)
    assert (admin.quantity, admin.unit_cents) == (45, 3000)
    # One line per person, in the order they joined (the admin first); the 30 free minutes
    # come off the first line only: (45 - 30) min x 30/h = 750.
    assert admin.position < staff.position < publisher.position
    assert admin.amount_cents == 750
    # The invoice says why: the free minutes are kept on the line and shown with it.
    with agency_context(tenant.agency):
        admin.refresh_from_db()
        staff.refresh_from_db()
    assert (admin.free_quantity, staff.free_quantity) == (30, 0)
    editor = client_for(tenant.publisher, tenant.host).get(
        reverse("billing:invoice_edit", args=[invoice.pk])
    )
    assert '45 min <span class="meta">(30 min free)</span>' in editor.content.decode()
    assert staff.amount_cents == 3000  # 40 min x 45/h
    assert publisher.amount_cents == 9000  # 90 min x 60/h
    assert reloaded(tenant, invoice).total_cents == 12750

    # Nothing left to bill on this invoice, nor on another of the same request.
    with agency_context(tenant.agency), pytest.raises(BillingError, match="No time"):
        invoices.invoice_add_staff_time(invoice=invoice, actor=tenant.publisher)
    # Voiding the draft frees the entries for the next invoice.
    with agency_context(tenant.agency):
        sending.invoice_void(invoice=invoice, actor=tenant.publisher, reason="Redo")
    second = draft(tenant, filed)
    with agency_context(tenant.agency):
        assert len(invoices.invoice_add_staff_time(invoice=second, actor=tenant.publisher)) == 3


def test_one_active_invoice_per_request(tenant, filed):
    first = draft(tenant, filed)
    with agency_context(tenant.agency), pytest.raises(BillingError, match="already has an open"):
        invoices.invoice_create(records_request=filed, actor=tenant.publisher)
    with agency_context(tenant.agency):
        sending.invoice_void(invoice=first, actor=tenant.publisher, reason="Wrong request")
    assert draft(tenant, filed).status == InvoiceStatus.DRAFT


def test_bad_amounts_are_refused_with_messages_and_nothing_kept(tenant, filed):
    invoice = draft(tenant, filed)
    for bad in (-1, 10_000_001, 12.5, "12", True, None):
        with agency_context(tenant.agency), pytest.raises(BillingError):
            invoices.invoice_line_add(
                invoice=invoice,
                actor=tenant.publisher,
                kind=LineKind.CUSTOM,
                description="Odd",
                unit_cents=bad,
            )
    for quantity in (0, -3, 1.5, 2_000_000):
        with agency_context(tenant.agency), pytest.raises(BillingError):
            invoices.invoice_line_add(
                invoice=invoice,
                actor=tenant.publisher,
                kind=LineKind.CUSTOM,
                description="Odd",
                quantity=quantity,
                unit_cents=100,
            )
    # Each line within bounds, the total over $100,000: refused as a whole.
    add_line(tenant, invoice, unit_cents=9_000_000)
    with agency_context(tenant.agency), pytest.raises(BillingError, match="more than"):
        invoices.invoice_line_add(
            invoice=invoice,
            actor=tenant.publisher,
            kind=LineKind.CUSTOM,
            description="Too much",
            unit_cents=2_000_000,
        )
    with agency_context(tenant.agency), pytest.raises(BillingError, match="discounts"):
        invoices.invoice_line_add(
            invoice=invoice,
            actor=tenant.publisher,
            kind=LineKind.DISCOUNT,
            description="Too generous",
            unit_cents=9_000_001,
        )
    with agency_context(tenant.agency):
        assert InvoiceLine.objects.filter(invoice_id=invoice.pk).count() == 1
    assert reloaded(tenant, invoice).total_cents == 9_000_000


@pytest.mark.clock
def test_sending_numbers_it_and_nothing_can_change_after(tenant, filed):
    set_schedule(
        tenant,
        minimum_invoice_cents=500,
        pause_clock_when_sent=False,
        hold_release_until_paid=False,
    )
    invoice = draft(tenant, filed)
    with agency_context(tenant.agency), pytest.raises(BillingError, match="nothing to pay"):
        sending.invoice_send(invoice=invoice, actor=tenant.publisher)
    add_line(tenant, invoice, unit_cents=499)
    with (
        agency_context(tenant.agency),
        pytest.raises(BillingError, match="below the agency's minimum"),
    ):
        sending.invoice_send(invoice=invoice, actor=tenant.publisher)
    add_line(tenant, invoice, unit_cents=1)
    with agency_context(tenant.agency):
        sent = sending.invoice_send(invoice=invoice, actor=tenant.publisher)
    assert sent.status == InvoiceStatus.SENT
    # Numbered in the agency's year (New Year's Eve in Chicago is still the old year).
    assert sent.number == f"INV-{agency_today(tenant.agency).year}-0001"
    for change in (
        lambda: invoices.invoice_line_add(
            invoice=sent,
            actor=tenant.publisher,
            kind=LineKind.CUSTOM,
            description="x",
            unit_cents=1,
        ),
        lambda: invoices.invoice_set_deposit(invoice=sent, actor=tenant.publisher, deposit_cents=1),
        lambda: invoices.invoice_set_waiver(
            invoice=sent, actor=tenant.publisher, waived_cents=1, reason="x"
        ),
        lambda: invoices.invoice_add_staff_time(invoice=sent, actor=tenant.publisher),
        lambda: sending.invoice_send(invoice=sent, actor=tenant.publisher),
    ):
        with agency_context(tenant.agency), pytest.raises(BillingError, match="sent"):
            change()
    with agency_context(tenant.agency):
        events = list(
            AuditEvent.objects.filter(agency=tenant.agency, action__startswith="billing.invoice")
            .order_by("id")
            .values_list("action", flat=True)
        )
        public = list(
            TimelineEvent.objects.filter(request_id=filed.pk, is_public=True).values_list(
                "kind", flat=True
            )
        )
    assert events[0] == "billing.invoice_created"
    assert events[-1] == "billing.invoice_sent"
    assert "invoice_sent" in public
    assert "invoice_changed" not in public


def test_the_second_sent_invoice_of_the_year_gets_the_next_number(tenant, filed, other_tenant):
    first = sent_invoice(tenant, filed)
    other = file_request(tenant, title="Budget", requester=tenant.requester)
    second = sent_invoice(tenant, other)
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    elsewhere = sent_invoice(other_tenant, file_request(other_tenant))
    assert elsewhere.number.endswith("-0001")
    with agency_context(tenant.agency):
        assert Invoice.objects.filter(agency=tenant.agency).count() == 2
