"""Billing URLs, namespace "billing" (config/urls.py includes them at the root of an agency's
host). Staff pages live under /staff/billing/ (the fee settings, the invoice editor and its
actions); the invoice page and its PDF, for staff and the requester, under /invoices/."""

from django.urls import path

from billing.views import invoice_page, reports, staff_fees, staff_invoices
from requests_portal import converters as request_converters  # noqa: F401  (<number:...>)

_INVOICE = "staff/billing/invoices/<int:invoice_id>/"

urlpatterns = [
    path("staff/billing/fees/", staff_fees.fee_schedule, name="fee_schedule"),
    path("staff/billing/fees/items/new/", staff_fees.fee_item_new, name="fee_item_new"),
    path("staff/billing/fees/items/<int:item_id>/", staff_fees.fee_item_edit, name="fee_item_edit"),
    path(
        "staff/billing/fees/items/<int:item_id>/toggle/",
        staff_fees.fee_item_toggle,
        name="fee_item_toggle",
    ),
    path("staff/billing/fees/rates/", staff_fees.staff_rate_new, name="staff_rate_new"),
    path(
        "staff/billing/fees/rates/<int:rate_id>/remove/",
        staff_fees.staff_rate_remove,
        name="staff_rate_remove",
    ),
    path(
        "staff/billing/requests/<number:number>/invoice/",
        staff_invoices.invoice_new,
        name="invoice_new",
    ),
    path(_INVOICE, staff_invoices.invoice_edit, name="invoice_edit"),
    path(_INVOICE + "lines/", staff_invoices.invoice_line_add, name="invoice_line_add"),
    path(
        _INVOICE + "lines/<int:line_id>/remove/",
        staff_invoices.invoice_line_remove,
        name="invoice_line_remove",
    ),
    path(_INVOICE + "staff-time/", staff_invoices.invoice_staff_time, name="invoice_staff_time"),
    path(_INVOICE + "deposit/", staff_invoices.invoice_deposit, name="invoice_deposit"),
    path(_INVOICE + "waiver/", staff_invoices.invoice_waiver, name="invoice_waiver"),
    path(_INVOICE + "note/", staff_invoices.invoice_note, name="invoice_note"),
    path(_INVOICE + "send/", staff_invoices.invoice_send, name="invoice_send"),
    path(_INVOICE + "void/", staff_invoices.invoice_void, name="invoice_void"),
    path(_INVOICE + "payments/", staff_invoices.invoice_payment, name="invoice_payment"),
    path("staff/billing/reports/fees/", reports.fee_report, name="fee_report"),
    path("invoices/<int:invoice_id>/", invoice_page.invoice_page, name="invoice_page"),
    path("invoices/<int:invoice_id>/invoice.pdf", invoice_page.invoice_pdf, name="invoice_pdf"),
]
