"""The invoice as its reader sees it: the printable page and the PDF, for staff who can open
the request and for the requester (signed in, or through the request's tracking link).
Anyone else gets the portal's 404, the same as for an invoice that does not exist."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_safe

from accounts import language, policy
from accounts.models import Agency
from billing import access, pdf
from billing.models import Invoice, InvoiceStatus


def _invoice_for(request: HttpRequest, invoice_id: int) -> tuple[Invoice, bool]:
    """(the invoice, whether a staff member reads it)."""
    agency: Agency | None = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    if policy.can(request.user, agency, policy.INVOICE_VIEW):
        try:
            return access.invoice_for_staff(request.user, agency, invoice_id), True
        except Http404:
            pass  # maybe their own request as a resident
    return access.invoice_for_requester(request, agency, invoice_id), False


@require_safe
def invoice_page(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice, is_staff = _invoice_for(request, invoice_id)
    tracking = request.GET.get("t", "") if not is_staff else ""
    return render(
        request,
        "billing/invoice_page.html",
        {
            "invoice": invoice,
            "r": invoice.request,
            "lines": list(access.invoice_lines(invoice)),
            "payments": list(access.invoice_payments(invoice)),
            "is_staff_reader": is_staff,
            "is_draft": invoice.status == InvoiceStatus.DRAFT,
            "tracking": tracking,
        },
    )


@require_safe
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The PDF in its reader's language: the requester's page's; for staff, who print it for
    the requester, the language the request was filed in (``RecordsRequest.language``)."""
    invoice, is_staff = _invoice_for(request, invoice_id)
    reader_language = (
        language.supported(invoice.request.language)
        if is_staff
        else translation.get_language() or "en"
    )
    with translation.override(reader_language):
        body = pdf.invoice_pdf(
            invoice, list(access.invoice_lines(invoice)), list(access.invoice_payments(invoice))
        )
    response = HttpResponse(body, content_type="application/pdf")
    name = invoice.number if invoice.status != InvoiceStatus.DRAFT else f"draft-{invoice.pk}"
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
