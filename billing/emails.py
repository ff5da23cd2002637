"""The emails of billing: the invoice to the requester when it is sent, and the receipt of
each payment. Rendered in the language the request was filed in, with times on the agency's
clock; queued to leave once the transaction that caused them commits."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts import jobs, language
from accounts.local_time import showing_times_of
from accounts.tenancy import agency_origin
from billing import access
from billing.models import Invoice
from billing.money import format_money
from requests_portal.tracking import tracking_token


def invoice_link(invoice: Invoice, http_request: HttpRequest | None = None) -> str:
    """The invoice page for its requester: with the request's tracking link, so a guest
    (or a requester not signed in) opens it from the email."""
    records_request = invoice.request
    origin = (
        f"{http_request.scheme}://{http_request.get_host()}"
        if http_request is not None
        else agency_origin(records_request.agency)
    )
    path = reverse("billing:invoice_page", args=[invoice.pk])
    return f"{origin}{path}?t={tracking_token(records_request)}"


def _send(invoice: Invoice, template: str, context: dict[str, object]) -> None:
    records_request = invoice.request
    if not records_request.requester_email:
        return
    context = {
        "r": records_request,
        "agency": records_request.agency,
        "invoice": invoice,
        **context,
    }
    with (
        translation.override(language.supported(records_request.language)),
        showing_times_of(records_request.agency),
    ):
        subject = render_to_string(f"billing/email/{template}_subject.txt", context)
        body = render_to_string(f"billing/email/{template}.txt", context)
        html = render_to_string(f"billing/email/{template}.html", context)
    jobs.send_email(
        agency_id=records_request.agency_id,
        subject=" ".join(subject.split()),
        body=body,
        to=[records_request.requester_email],
        html_body=html,
    )


def email_invoice(invoice: Invoice, *, http_request: HttpRequest | None = None) -> None:
    """The sent invoice: its amount, what is due now, and the link to pay or print it."""
    _send(
        invoice,
        "invoice_sent",
        {
            "total": format_money(invoice.total_cents, invoice.currency),
            "due_now": format_money(invoice.due_now_cents, invoice.currency),
            "has_deposit": 0 < invoice.deposit_cents < invoice.total_cents,
            "link": invoice_link(invoice, http_request),
        },
    )


def receipt_send(*, agency_id: int, payment_id: int) -> None:
    """The receipt of one payment (billing.tasks.send_receipt)."""
    payment = access.payment_for_task(agency_id, payment_id)
    if payment is None:
        return
    invoice = payment.invoice
    _send(
        invoice,
        "receipt",
        {
            "payment": payment,
            "amount": format_money(payment.amount_cents, invoice.currency),
            "balance": format_money(invoice.balance_cents, invoice.currency),
            "link": invoice_link(invoice),
        },
    )
