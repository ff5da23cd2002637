"""The billing pages through the web: who opens what (admin, publisher, staff, requester,
anonymous, another agency's admin), the editor's forms and their field errors, the
requester's invoice page and panel, the PDF."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from billing.models import FeeItem, FeeSchedule, Invoice, InvoiceLine, InvoiceStatus
from requests_portal.tracking import tracking_token
from tests.billing.helpers import add_line, draft, log_time, reloaded, sent_invoice, set_schedule
from tests.requests_portal.helpers import body_of, file_request, reload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agency_defaults")]


@pytest.fixture
def filed(tenant):
    return file_request(tenant, requester=tenant.requester, email=tenant.requester.email)


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_fee_schedule_page_parses_dollars_and_shows_field_errors(tenant, client_for):
    admin = client_for(tenant.admin, tenant.host)
    url = reverse("billing:fee_schedule")
    assert admin.get(url).status_code == 200
    values = {
        "currency": "usd",
        "paper_page_cents": "0.10",
        "electronic_page_cents": "0.05",
        "free_pages": "20",
        "default_hourly_cents": "45.50",
        "free_minutes": "30",
        "minimum_invoice_cents": "5",
        "default_deposit_bps": "25",
        "pause_clock_when_sent": "on",
    }
    assert admin.post(url, values).status_code == 302
    with agency_context(tenant.agency):
        schedule = FeeSchedule.objects.get(agency=tenant.agency)
    assert schedule.paper_page_cents == 10
    assert schedule.default_hourly_cents == 4550
    assert schedule.minimum_invoice_cents == 500
    assert schedule.default_deposit_bps == 2500
    assert schedule.pause_clock_when_sent and not schedule.hold_release_until_paid

    for field, bad, message in (
        ("paper_page_cents", "-1", "not negative"),
        ("paper_page_cents", "0.105", "two decimals"),
        ("default_hourly_cents", "abc", "dollars and cents"),
        ("minimum_invoice_cents", "100000.01", "at most"),
        ("default_deposit_bps", "150", "100"),
    ):
        response = admin.post(url, {**values, field: bad})
        assert response.status_code == 400, field
        assert message in body_of(response), (field, bad)
    with agency_context(tenant.agency):
        assert FeeSchedule.objects.get(agency=tenant.agency).paper_page_cents == 10


def test_fee_items_and_rates_are_added_changed_and_retired(tenant, client_for):
    admin = client_for(tenant.admin, tenant.host)
    response = admin.post(
        reverse("billing:fee_item_new"),
        {"name": "USB drive", "kind": "media", "unit_cents": "7.99"},
    )
    assert response.status_code == 302
    with agency_context(tenant.agency):
        item = FeeItem.objects.get(agency=tenant.agency, name="USB drive")
    assert item.unit_cents == 799
    duplicate = admin.post(
        reverse("billing:fee_item_new"), {"name": "usb drive", "kind": "media", "unit_cents": "1"}
    )
    assert duplicate.status_code == 400
    assert "already has that name" in body_of(duplicate)
    edit = reverse("billing:fee_item_edit", args=[item.pk])
    assert admin.get(edit).status_code == 200
    assert (
        admin.post(edit, {"name": "USB stick", "kind": "media", "unit_cents": "8"}).status_code
        == 302
    )
    assert admin.post(reverse("billing:fee_item_toggle", args=[item.pk])).status_code == 302
    with agency_context(tenant.agency):
        item.refresh_from_db()
    assert (item.name, item.unit_cents, item.is_active) == ("USB stick", 800, False)

    rate = admin.post(
        reverse("billing:staff_rate_new"),
        {"person": str(tenant.publisher.pk), "hourly_cents": "60"},
    )
    assert rate.status_code == 302
    neither = admin.post(reverse("billing:staff_rate_new"), {"hourly_cents": "60"})
    assert neither.status_code == 400
    page = body_of(admin.get(reverse("billing:fee_schedule")))
    assert "$60.00" in page and "USB stick" in page


def test_a_publisher_builds_and_sends_an_invoice_from_the_request_page(tenant, filed, client_for):
    set_schedule(tenant, default_hourly_cents=3000)
    log_time(tenant, filed, tenant.staff, 90)
    publisher = client_for(tenant.publisher, tenant.host)
    page = body_of(publisher.get(reverse("staff:request_detail", args=[filed.number])))
    assert "Start an invoice" in page
    started = publisher.post(reverse("billing:invoice_new", args=[filed.number]))
    assert started.status_code == 302
    with agency_context(tenant.agency):
        invoice = Invoice.objects.get(agency=tenant.agency, request=filed)
    editor = reverse("billing:invoice_edit", args=[invoice.pk])
    assert started["Location"] == editor
    assert "1 time entry is not billed yet" in body_of(publisher.get(editor))

    # A bad amount is the field's error, never a server error; nothing is added.
    for bad in ("-3", "12.345", "lots", "200000"):
        response = publisher.post(
            reverse("billing:invoice_line_add", args=[invoice.pk]),
            {"kind": "custom", "description": "Postage", "quantity": "1", "unit_cents": bad},
        )
        assert response.status_code == 400, bad
    add = publisher.post(
        reverse("billing:invoice_line_add", args=[invoice.pk]),
        {"kind": "custom", "description": "Postage", "quantity": "2", "unit_cents": "3.50"},
    )
    assert add.status_code == 302
    assert (
        publisher.post(reverse("billing:invoice_staff_time", args=[invoice.pk])).status_code == 302
    )
    invoice = reloaded(tenant, invoice)
    assert invoice.total_cents == 700 + 4500
    sent = publisher.post(reverse("billing:invoice_send", args=[invoice.pk]))
    assert sent.status_code == 302
    invoice = reloaded(tenant, invoice)
    assert invoice.status == InvoiceStatus.SENT
    # Sent: the editor offers no editing any more, the services refuse it.
    page = body_of(publisher.get(editor))
    assert "Add the line" not in page
    assert "cannot be changed" in page
    publisher.post(
        reverse("billing:invoice_line_add", args=[invoice.pk]),
        {"kind": "custom", "description": "Late", "quantity": "1", "unit_cents": "1"},
    )
    with agency_context(tenant.agency):
        assert InvoiceLine.objects.filter(invoice_id=invoice.pk, description="Late").count() == 0
    # Paid offline by cheque.
    paid = publisher.post(
        reverse("billing:invoice_payment", args=[invoice.pk]),
        {"amount_cents": "52.00", "method": "cheque", "reference": "1042"},
    )
    assert paid.status_code == 302
    assert reloaded(tenant, invoice).status == InvoiceStatus.PAID
    assert reload(tenant, filed).release_hold == ""


ROLES_THAT_INVOICE = ("admin", "publisher", "department_admin")


@pytest.mark.parametrize("persona", ["admin", "publisher", "department_admin", "staff"])
def test_staff_roles_read_invoices_and_only_some_change_them(persona, tenant, filed, client_for):
    from tests.requests_portal.helpers import add_to_department, department

    add_to_department(tenant, tenant.department_admin, department(tenant))
    with agency_context(tenant.agency):
        from requests_portal.models import RequestDepartment

        RequestDepartment.objects.get_or_create(
            agency=tenant.agency, request=filed, department=department(tenant), is_lead=True
        )
    invoice = draft(tenant, filed)
    add_line(tenant, invoice, unit_cents=1000)
    client = client_for(getattr(tenant, persona), tenant.host)
    assert client.get(reverse("billing:invoice_edit", args=[invoice.pk])).status_code == 200
    assert client.get(reverse("billing:invoice_page", args=[invoice.pk])).status_code == 200
    response = client.post(reverse("billing:invoice_send", args=[invoice.pk]))
    if persona in ROLES_THAT_INVOICE:
        assert response.status_code == 302
        assert reloaded(tenant, invoice).status == InvoiceStatus.SENT
    else:
        assert response.status_code == 403
        assert reloaded(tenant, invoice).status == InvoiceStatus.DRAFT
    fees = client.get(reverse("billing:fee_schedule"))
    assert fees.status_code == (200 if persona == "admin" else 403)


def test_outsiders_requesters_and_anonymous_get_no_staff_page(tenant, filed, outsider, client_for):
    invoice = draft(tenant, filed)
    editor = reverse("billing:invoice_edit", args=[invoice.pk])
    for user in (outsider, tenant.requester):
        client = client_for(user, tenant.host)
        assert client.get(editor).status_code == 404
        assert client.get(reverse("billing:fee_schedule")).status_code == 404
        assert client.post(reverse("billing:invoice_send", args=[invoice.pk])).status_code == 404
        # A draft is nobody's but staff's: the invoice page too.
        assert client.get(reverse("billing:invoice_page", args=[invoice.pk])).status_code == 404
    anonymous = client_for(None, tenant.host)
    assert anonymous.get(editor).status_code == 302
    assert anonymous.get(reverse("billing:invoice_page", args=[invoice.pk])).status_code == 404
    assert reloaded(tenant, invoice).status == InvoiceStatus.DRAFT


def test_the_requester_sees_their_invoice_and_nobody_else_does(
    tenant, filed, other_tenant, outsider, client_for
):
    set_schedule(tenant, default_deposit_bps=0)
    invoice = sent_invoice(tenant, filed, unit_cents=1234, quantity=2)
    page_url = reverse("billing:invoice_page", args=[invoice.pk])
    pdf_url = reverse("billing:invoice_pdf", args=[invoice.pk])

    requester = client_for(tenant.requester, tenant.host)
    page = requester.get(page_url)
    assert page.status_code == 200
    assert invoice.number in body_of(page) and "$24.68" in body_of(page)
    assert "css/invoice.css" in body_of(page)
    panel = body_of(requester.get(reverse("request_detail", args=[filed.number])))
    assert invoice.number in panel and "is due now" in panel

    # A guest with the request's tracking link opens it too.
    guest = client_for(None, tenant.host)
    token = tracking_token(filed)
    assert guest.get(f"{page_url}?t={token}").status_code == 200
    assert guest.get(f"{page_url}?t=forged").status_code == 404
    assert guest.get(page_url).status_code == 404

    # Another requester, another agency's admin, the public page: nothing.
    stranger = file_request(tenant, title="Other", requester=other_tenant.requester)
    assert stranger.pk
    assert client_for(other_tenant.requester, tenant.host).get(page_url).status_code == 404
    assert client_for(outsider, tenant.host).get(page_url).status_code == 404
    assert client_for(outsider, tenant.host).get(pdf_url).status_code == 404
    public_page = body_of(
        client_for(None, tenant.host).get(reverse("request_detail", args=[filed.number]))
    )
    # The public timeline says an invoice was sent (the clock's pause is public), but no
    # panel, no link to the invoice.
    assert page_url not in public_page and "is due now" not in public_page
    # Another agency's host never finds it.
    assert client_for(tenant.requester, other_tenant.host).get(page_url).status_code == 404


def test_the_pdf_names_the_invoice_the_request_and_the_amounts(tenant, filed, client_for):
    set_schedule(tenant, default_deposit_bps=2500)
    invoice = sent_invoice(tenant, filed, unit_cents=1999, quantity=3)
    for client in (
        client_for(tenant.staff, tenant.host),
        client_for(tenant.requester, tenant.host),
    ):
        response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = _pdf_text(response.content)
        assert invoice.number in text
        assert filed.number in text
        assert "$59.97" in text  # 3 x $19.99
        assert "$14.99" in text  # the deposit, 25 % rounded half up (14.9925)
        assert tenant.agency.name in text


def test_a_department_admin_invoices_only_their_departments_requests(tenant, client_for):
    from tests.requests_portal.helpers import add_to_department, department

    add_to_department(tenant, tenant.department_admin, department(tenant, "Parks"))
    elsewhere = file_request(tenant, department=department(tenant, "Clerk"))
    invoice = draft(tenant, elsewhere)
    add_line(tenant, invoice, unit_cents=1000)
    client = client_for(tenant.department_admin, tenant.host)
    # They see it (the request is published), as every staff member does, and change nothing.
    assert client.get(reverse("billing:invoice_edit", args=[invoice.pk])).status_code == 200
    assert client.post(reverse("billing:invoice_send", args=[invoice.pk])).status_code == 403
    assert client.post(reverse("billing:invoice_new", args=[elsewhere.number])).status_code == 403
    assert reloaded(tenant, invoice).status == InvoiceStatus.DRAFT
