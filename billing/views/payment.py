"""Paying an invoice by card (the requester) and refunding a payment (staff).

"Pay" posts here, the portal opens (or reuses) a Stripe Checkout session and sends the browser
to Stripe's page with a 303; the card is typed there, never here. Stripe sends the person
back to ``pay_return``, which shows where the payment stands and, when the webhook has not
arrived yet, asks Stripe itself. Works without JavaScript.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from billing import access, stripe_access
from billing.errors import BillingError
from billing.models import Invoice, InvoiceStatus
from billing.services import checkout, refunds
from billing.stripe_forms import RefundForm
from billing.views.stripe_common import agency_of, member

_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
_BACK = "billing-pay-back"


def _request_page(invoice: Invoice, tracking: str) -> str:
    url = reverse("request_detail", args=[invoice.request.number])
    return f"{url}?t={tracking}" if tracking else url


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@require_POST
@once_per_form
def invoice_pay(request: HttpRequest, invoice_id: int) -> HttpResponse:
    agency = agency_of(request)
    invoice = access.invoice_for_requester(request, agency, invoice_id)
    tracking = request.GET.get("t", "")
    back = _request_page(invoice, tracking)
    # Where "back to your request" leads from Stripe's return and cancel pages (a guest's
    # tracking link stays in their session, never in an address given to Stripe).
    request.session[_BACK] = {**request.session.get(_BACK, {}), str(invoice.pk): back}
    return_path = reverse("billing:pay_return", args=[invoice.pk])
    urls = checkout.ReturnUrls(
        success=f"{_origin(request)}{return_path}?session_id={{CHECKOUT_SESSION_ID}}",
        cancel=_origin(request) + reverse("billing:pay_cancel", args=[invoice.pk]),
    )
    try:
        attempt = checkout.checkout_start(
            invoice=invoice,
            urls=urls,
            actor=request.user if request.user.is_authenticated else None,
            http_request=request,
        )
    except BillingError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(back)
    response = HttpResponseRedirect(attempt.url)
    response.status_code = 303
    return response


def _back_link(request: HttpRequest, invoice_id: int) -> str:
    return str(request.session.get(_BACK, {}).get(str(invoice_id), ""))


@require_safe
def pay_return(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Stripe's ``success_url``: the session id Stripe put in the address is what proves the
    person came from its page; another or a made-up one answers 404."""
    agency = agency_of(request)
    session_id = request.GET.get("session_id", "")
    if not _SESSION_ID.fullmatch(session_id):
        raise Http404
    attempt = stripe_access.checkout_for_return(agency, invoice_id, session_id)
    problem = ""
    if attempt.completed_at is None:
        try:
            checkout.checkout_confirm(attempt=attempt, http_request=request)
        except BillingError as error:
            problem = str(error)
        attempt = stripe_access.checkout_for_return(agency, invoice_id, session_id)
    invoice = attempt.invoice
    invoice.refresh_from_db(fields=["status", "paid_cents", "refunded_cents"])
    context = {
        "invoice": invoice,
        "attempt": attempt,
        "confirmed": attempt.completed_at is not None,
        "fully_paid": invoice.status == InvoiceStatus.PAID,
        "problem": problem,
        "back_url": _back_link(request, invoice.pk),
    }
    return render(request, "billing/pay_return.html", context)


@require_safe
def pay_cancel(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Stripe's ``cancel_url``: the person left Stripe's page; nothing was charged."""
    agency_of(request)
    return render(request, "billing/pay_cancel.html", {"back_url": _back_link(request, invoice_id)})


def invoice_editor_url(invoice: Invoice) -> str:
    try:
        return reverse("billing:invoice_edit", args=[invoice.pk])
    except NoReverseMatch:
        return reverse("staff:request_detail", args=[invoice.request.number])


@require_POST
@agency_permission(policy.REQUEST_INVOICE)
@once_per_form
def invoice_refund(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = access.invoice_for_staff(request.user, agency_of(request), invoice_id)
    payments = list(access.invoice_payments(invoice).select_related("invoice"))
    form = RefundForm(request.POST, payments=payments)
    if form.is_valid():
        try:
            refunds.refund_issue(
                payment=form.cleaned_data["payment"],
                amount_cents=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=member(request),
                http_request=request,
            )
        except BillingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, gettext("Refund recorded."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
    return HttpResponseRedirect(invoice_editor_url(invoice))
