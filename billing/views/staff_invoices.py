"""The staff invoice pages: starting an invoice on a request, the editor of one invoice (its
lines, staff time from the time log, deposit, waiver, note), sending, voiding and recording
a payment received offline. Every staff member who can open the request reads its invoices;
changing one takes ``request.invoice`` (department admins: on their departments' requests).

Each action has the same shape (``_action``): the invoice fetched through the access helper
(404 for outsiders), the right to act on its request (403), the action's form validated (the
editor again with its errors, 400), the service called, a refusal shown as a message, back to
the editor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from billing import access, forms
from billing.errors import BillingError
from billing.models import ACTIVE_STATUSES, Invoice, InvoiceStatus
from billing.services import invoices, sending
from billing.services.common import invoice_label
from billing.views.common import StaffRequest
from requests_portal import access as request_access


def _may_change(request: StaffRequest, invoice: Invoice) -> bool:
    return request_access.can_act_on(
        request.user, request.agency, invoice.request, policy.REQUEST_INVOICE
    )


def _fee_choices(request: StaffRequest) -> list[tuple[int, str]]:
    return [(item.pk, item.name) for item in access.active_fee_items(request.agency)]


def _editor(
    request: StaffRequest,
    invoice: Invoice,
    bound: dict[str, django_forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    may_change = _may_change(request, invoice)
    is_draft = invoice.status == InvoiceStatus.DRAFT
    owed = invoice.status in (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)
    context: dict[str, Any] = {
        "invoice": invoice,
        "label": invoice_label(invoice),
        "r": invoice.request,
        "lines": list(access.invoice_lines(invoice)),
        "payments": list(access.invoice_payments(invoice)),
        "unbilled": len(access.unbilled_time_entries(invoice.request)) if is_draft else 0,
        "may_change": may_change,
        "editable": may_change and is_draft,
        "owed": owed,
        "can_void": may_change and invoice.status in ACTIVE_STATUSES,
    }
    if context["editable"]:
        context["line_form"] = bound.get("line") or forms.InvoiceLineForm(
            fee_items=_fee_choices(request)
        )
        context["deposit_form"] = bound.get("deposit") or forms.DepositForm(
            initial={"deposit_cents": invoice.deposit_cents}
        )
        context["waiver_form"] = bound.get("waiver") or forms.WaiverForm(
            initial={"waived_cents": invoice.waived_cents, "reason": invoice.waiver_reason}
        )
        context["note_form"] = bound.get("note") or forms.NoteForm(initial={"note": invoice.note})
    if context["can_void"]:
        context["void_form"] = bound.get("void") or forms.VoidForm()
    if may_change and owed:
        context["payment_form"] = bound.get("payment") or forms.OfflinePaymentForm(
            initial={"amount_cents": invoice.due_now_cents}
        )
    return render(request, "billing/staff_invoice.html", context, status=status)


def _to_editor(invoice: Invoice) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("billing:invoice_edit", args=[invoice.pk]))


@require_POST
@agency_permission(policy.REQUEST_INVOICE)
@once_per_form
def invoice_new(request: StaffRequest, number: str) -> HttpResponse:
    records_request = request_access.get_request_for_staff(request.user, request.agency, number)
    if not request_access.can_act_on(
        request.user, request.agency, records_request, policy.REQUEST_INVOICE
    ):
        raise PermissionDenied
    try:
        invoice = invoices.invoice_create(
            records_request=records_request, actor=request.user, http_request=request
        )
    except BillingError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("staff:request_detail", args=[records_request.number]))
    messages.success(request, gettext("Draft invoice started."))
    return _to_editor(invoice)


@require_safe
@agency_permission(policy.INVOICE_VIEW)
def invoice_edit(request: StaffRequest, invoice_id: int) -> HttpResponse:
    invoice = access.invoice_for_staff(request.user, request.agency, invoice_id)
    return _editor(request, invoice)


Handler = Callable[[StaffRequest, Invoice, dict[str, Any]], str]
FormFactory = Callable[[Any, StaffRequest], django_forms.Form]


def _action(
    handler: Handler,
    form_name: str | None = None,
    form_class: FormFactory | None = None,
    *,
    creates: bool = False,
) -> Callable[..., HttpResponse]:
    """The POST view of one action on an invoice: ``handler`` calls the service with the valid
    form's data and returns what the page says once done."""

    def act(request: StaffRequest, invoice_id: int, **kwargs: Any) -> HttpResponse:
        invoice = access.invoice_for_staff(request.user, request.agency, invoice_id)
        if not _may_change(request, invoice):
            raise PermissionDenied
        data: dict[str, Any] = dict(kwargs)
        if form_class is not None and form_name is not None:
            form = form_class(request.POST, request)
            if not form.is_valid():
                return _editor(request, invoice, {form_name: form}, 400)
            data.update(form.cleaned_data)
        try:
            done = handler(request, invoice, data)
        except BillingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
        return _to_editor(invoice)

    view = once_per_form(act) if creates else act
    return require_POST(agency_permission(policy.REQUEST_INVOICE)(view))


def _line_form(data: Any, request: StaffRequest) -> forms.InvoiceLineForm:
    return forms.InvoiceLineForm(data, fee_items=_fee_choices(request))


def _plain(form_class: type[django_forms.Form]) -> FormFactory:
    return lambda data, request: form_class(data)


def _add_line(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    fee_item = None
    if data.get("fee_item"):
        fee_item = next(
            (
                item
                for item in access.active_fee_items(request.agency)
                if item.pk == data["fee_item"]
            ),
            None,
        )
        if fee_item is None:
            raise BillingError(gettext("Choose one of the agency's fees."))
    invoices.invoice_line_add(
        invoice=invoice,
        actor=request.user,
        kind=data["kind"],
        description=data.get("description") or "",
        quantity=data["quantity"],
        unit_cents=data.get("unit_cents"),
        percent_bps=data.get("percent_bps") or 0,
        fee_item=fee_item,
        http_request=request,
    )
    return gettext("Line added.")


def _remove_line(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    invoices.invoice_line_remove(
        invoice=invoice, actor=request.user, line_id=data["line_id"], http_request=request
    )
    return gettext("Line removed.")


def _staff_time(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    lines = invoices.invoice_add_staff_time(
        invoice=invoice, actor=request.user, http_request=request
    )
    return gettext("Staff time added: %(count)d lines.") % {"count": len(lines)}


def _deposit(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    invoices.invoice_set_deposit(
        invoice=invoice,
        actor=request.user,
        deposit_cents=data.get("deposit_cents") or 0,
        http_request=request,
    )
    return gettext("Deposit saved.")


def _waiver(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    invoices.invoice_set_waiver(
        invoice=invoice,
        actor=request.user,
        waived_cents=data.get("waived_cents") or 0,
        reason=data.get("reason") or "",
        http_request=request,
    )
    return gettext("Waiver saved.")


def _note(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    invoices.invoice_set_note(
        invoice=invoice, actor=request.user, note=data.get("note") or "", http_request=request
    )
    return gettext("Note saved.")


def _send(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    sent = sending.invoice_send(invoice=invoice, actor=request.user, http_request=request)
    return gettext("Invoice %(number)s sent to the requester.") % {"number": sent.number}


def _void(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    sending.invoice_void(
        invoice=invoice, actor=request.user, reason=data["reason"], http_request=request
    )
    return gettext("Invoice voided.")


def _payment(request: StaffRequest, invoice: Invoice, data: dict[str, Any]) -> str:
    sending.invoice_pay_offline(
        invoice=invoice,
        actor=request.user,
        amount_cents=data["amount_cents"],
        method=data["method"],
        reference=data.get("reference") or "",
        http_request=request,
    )
    return gettext("Payment recorded.")


invoice_line_add = _action(_add_line, "line", _line_form, creates=True)
invoice_line_remove = _action(_remove_line)
invoice_staff_time = _action(_staff_time)
invoice_deposit = _action(_deposit, "deposit", _plain(forms.DepositForm))
invoice_waiver = _action(_waiver, "waiver", _plain(forms.WaiverForm))
invoice_note = _action(_note, "note", _plain(forms.NoteForm))
invoice_send = _action(_send)
invoice_void = _action(_void, "void", _plain(forms.VoidForm))
invoice_payment = _action(_payment, "payment", _plain(forms.OfflinePaymentForm), creates=True)
