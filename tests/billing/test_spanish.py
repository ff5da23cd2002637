"""A requester reading in Spanish: the fees panel of their request's page, the invoice page,
the PDF, the invoice and receipt emails and billing's public timeline entries all read in
Spanish, amounts written as dollars and cents ("$24.68"), while the entries stay stored in
English (docs/translation.md: stored text is English)."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.tenancy import agency_context
from billing.models import PaymentMethod
from billing.services import payments, sending
from requests_portal import timeline_text
from requests_portal.models import RecordsRequest, TimelineEvent
from requests_portal.tracking import tracking_token
from tests.billing.helpers import add_line, draft, sent_invoice, set_schedule
from tests.billing.stripe_helpers import start_checkout
from tests.requests_portal.helpers import body_of, file_request, mail_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agency_defaults")]

GUEST = "ann@example.org"


@pytest.fixture
def filed_in_spanish(tenant):
    """A guest's request filed from a Spanish page (RecordsRequest.language)."""
    filed = file_request(tenant, name="Ann Resident", email=GUEST)
    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk=filed.pk).update(language="es")
        filed.refresh_from_db()
    return filed


def _spanish_guest(client_for, tenant):
    client = client_for(None, tenant.host)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client


def _page(client, records_request) -> str:
    url = reverse("request_detail", args=[records_request.number])
    response = client.get(f"{url}?t={tracking_token(records_request)}")
    assert response.status_code == 200
    return body_of(response)


def _timeline(tenant, records_request, kind) -> list[TimelineEvent]:
    with agency_context(tenant.agency):
        return list(TimelineEvent.objects.filter(request=records_request, kind=kind))


def test_a_spanish_requester_reads_the_fees_panel_and_the_timeline_in_spanish(
    tenant, filed_in_spanish, client_for, django_capture_on_commit_callbacks
):
    set_schedule(tenant, default_deposit_bps=0, pause_clock_when_sent=True)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = sent_invoice(tenant, filed_in_spanish, unit_cents=1234, quantity=2)
    number = invoice.number
    client = _spanish_guest(client_for, tenant)

    page = _page(client, filed_in_spanish)

    # The fees panel: the amount due, the paused clock, the invoice's state and total.
    assert '<html lang="es">' in page
    assert "Tarifas" in page
    assert f"Factura {number}: debe pagar <strong>$24.68</strong> ahora." in page
    assert "El plazo de su solicitud está en pausa hasta que se pague." in page
    assert "Enviada · total $24.68 · saldo pendiente $24.68" in page
    # The timeline's entries, and the clock's reason written by billing.
    assert f"Factura {number} enviada: $24.68" in page
    assert f"Plazo en pausa: En espera del pago de la factura {number}" in page
    assert f"En pausa: En espera del pago de la factura {number}." in page
    for english in ("is due now", f"Invoice {number}", "Waiting for payment", "still owed"):
        assert english not in page
    # Stored in English all the same.
    [sent] = _timeline(tenant, filed_in_spanish, "invoice_sent")
    assert sent.summary == f"Invoice {number} sent: $24.68"
    assert sent.data["number"] == number and sent.data["currency"] == "usd"

    # The invoice email went out in the request's language.
    [email] = [m for m in mail_to(GUEST) if number in m.subject]
    assert email.subject == f"Solicitud {filed_in_spanish.number}: factura {number}"
    assert f"{tenant.agency.name} le envió la factura {number}" in email.body
    assert "Total: $24.68" in email.body
    assert "Vea, imprima o pague la factura aquí:" in email.body

    # Paid in full at the counter: the payment's entry, the restarted clock, the receipt.
    with django_capture_on_commit_callbacks(execute=True), agency_context(tenant.agency):
        sending.invoice_pay_offline(
            invoice=invoice,
            actor=tenant.publisher,
            amount_cents=2468,
            method=PaymentMethod.CASH,
            reference="R-1",
        )
    page = _page(client, filed_in_spanish)
    assert f"Pago de $24.68 recibido por la factura {number} (pagada en su totalidad)" in page
    assert "El plazo volvió a correr con" in page and "Clock restarted" not in page
    assert "Pagada · total $24.68" in page
    assert "Payment of" not in page
    [receipt] = [m for m in mail_to(GUEST) if "recibo" in m.subject]
    assert receipt.subject == f"Solicitud {filed_in_spanish.number}: recibo de la factura {number}"
    assert f"recibió su pago de $24.68 por la factura {number}" in receipt.body


def test_the_invoice_page_and_its_pdf_read_in_spanish(
    tenant, filed_in_spanish, client_for, django_capture_on_commit_callbacks
):
    set_schedule(tenant, default_deposit_bps=2500, pause_clock_when_sent=False)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = sent_invoice(tenant, filed_in_spanish, unit_cents=1999, quantity=3)
    client = _spanish_guest(client_for, tenant)
    query = f"?t={tracking_token(filed_in_spanish)}"

    page = body_of(client.get(reverse("billing:invoice_page", args=[invoice.pk]) + query))

    assert f"Factura {invoice.number}" in page
    assert "Facturado a" in page and "Ann Resident" in page
    assert "Depósito a pagar antes de comenzar el trabajo" in page
    assert "$59.97" in page and "$14.99" in page  # the total, the deposit (25 %)
    assert "Saldo" in page and "Precio unitario" in page and "Descargar el PDF" in page
    assert "Balance" not in page and "Billed to" not in page

    # The PDF: the requester's page language; staff get the request's (Spanish) too.
    for reader in (client, client_for(tenant.staff, tenant.host)):
        url = reverse("billing:invoice_pdf", args=[invoice.pk])
        response = reader.get(url + (query if reader is client else ""))
        assert response.status_code == 200
        text = _pdf_text(response.content)
        assert f"Factura {invoice.number}" in text
        assert "Estado: Enviada" in text and "Saldo" in text and "$59.97" in text


def test_a_staff_pdf_of_an_english_request_stays_english(tenant, client_for):
    filed = file_request(tenant, name="Bob", email="bob@example.org")
    invoice = sent_invoice(tenant, filed, unit_cents=1000)
    staff = client_for(tenant.staff, tenant.host)
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    text = _pdf_text(staff.get(reverse("billing:invoice_pdf", args=[invoice.pk])).content)

    assert f"Invoice {invoice.number}" in text and "Balance" in text


def test_billings_timeline_entries_are_rebuilt_from_their_data(tenant, filed_in_spanish):
    set_schedule(tenant, default_deposit_bps=4000, pause_clock_when_sent=False)
    invoice = sent_invoice(tenant, filed_in_spanish, unit_cents=5000)
    number = invoice.number
    with agency_context(tenant.agency):
        payment = payments.record_payment(
            invoice=invoice, amount_cents=2000, method=PaymentMethod.CHEQUE, actor=tenant.admin
        )
        payments.record_refund(
            payment=payment, amount_cents=2000, reason="Sent by mistake", actor=tenant.admin
        )
        voided = draft(tenant, filed_in_spanish)
        add_line(tenant, voided, unit_cents=700)
        voided = sending.invoice_send(invoice=voided, actor=tenant.publisher)
        sending.invoice_void(invoice=voided, actor=tenant.admin, reason="Duplicated")
    [sent, second] = _timeline(tenant, filed_in_spanish, "invoice_sent")
    [paid] = _timeline(tenant, filed_in_spanish, "invoice_payment")
    [refund] = _timeline(tenant, filed_in_spanish, "invoice_refund")
    [void] = _timeline(tenant, filed_in_spanish, "invoice_voided")

    with translation.override("es"):
        assert timeline_text.public_text(sent) == (
            f"Factura {number} enviada: $50.00; depósito a pagar ahora: $20.00"
        )
        assert timeline_text.public_text(paid) == (
            f"Pago de $20.00 recibido por la factura {number}"
        )
        assert timeline_text.public_text(refund) == (f"Reembolso de $20.00 de la factura {number}")
        # What staff typed is shown as typed.
        assert timeline_text.public_text(void) == f"Factura {voided.number} anulada: Duplicated"
        # An entry without the data it needs (written before it was stored) stays English.
        bare = TimelineEvent(kind="invoice_sent", summary=sent.summary, data={})
        assert timeline_text.public_text(bare) == sent.summary
    with translation.override("en"):
        assert timeline_text.public_text(sent) == sent.summary
        assert sent.summary == f"Invoice {number} sent: $50.00; deposit due now $20.00"
    assert second.summary.startswith(f"Invoice {voided.number} sent")


def test_a_refused_card_payment_is_explained_in_spanish(tenant, filed_in_spanish, client_for):
    """The agency takes no cards: the requester who tries reads why in their language."""
    set_schedule(tenant, default_deposit_bps=0, pause_clock_when_sent=False)
    invoice = sent_invoice(tenant, filed_in_spanish, unit_cents=1500)
    client = _spanish_guest(client_for, tenant)

    response = start_checkout(client, invoice, tracking=tracking_token(filed_in_spanish))
    assert response.status_code == 302
    page = body_of(client.get(response["Location"]))
    assert "Esta agencia todavía no acepta pagos con tarjeta en línea." in page


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
