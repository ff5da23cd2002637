"""Builders of the billing tests: a fee schedule, a draft invoice with lines, a sent one,
time entries, all made through the services inside the agency's context."""

from __future__ import annotations

import datetime

from accounts.tenancy import agency_context
from billing.models import FeeSchedule, Invoice, InvoiceLine, LineKind, Payment
from billing.services import invoices, sending
from requests_portal.models import RecordsRequest, TimeEntry


def set_schedule(tenant, **values) -> FeeSchedule:
    with agency_context(tenant.agency):
        schedule, _ = FeeSchedule.objects.update_or_create(agency=tenant.agency, defaults=values)
        return schedule


def draft(tenant, records_request: RecordsRequest, actor=None) -> Invoice:
    with agency_context(tenant.agency):
        return invoices.invoice_create(
            records_request=records_request, actor=actor or tenant.publisher
        )


def add_line(tenant, invoice: Invoice, actor=None, **values) -> InvoiceLine:
    values.setdefault("kind", LineKind.CUSTOM)
    values.setdefault("description", "Certified copy")
    with agency_context(tenant.agency):
        return invoices.invoice_line_add(invoice=invoice, actor=actor or tenant.publisher, **values)


def reloaded(tenant, invoice: Invoice) -> Invoice:
    with agency_context(tenant.agency):
        return Invoice.objects.select_related("request").get(pk=invoice.pk)


def sent_invoice(
    tenant, records_request: RecordsRequest, *, unit_cents=2500, quantity=1, deposit=None
):
    invoice = draft(tenant, records_request)
    add_line(tenant, invoice, unit_cents=unit_cents, quantity=quantity)
    with agency_context(tenant.agency):
        if deposit is not None:
            invoices.invoice_set_deposit(
                invoice=invoice, actor=tenant.publisher, deposit_cents=deposit
            )
        return sending.invoice_send(invoice=invoice, actor=tenant.publisher)


def log_time(tenant, records_request, user, minutes: int) -> TimeEntry:
    with agency_context(tenant.agency):
        return TimeEntry.objects.create(
            agency=tenant.agency,
            request=records_request,
            user=user,
            day=datetime.date(2026, 11, 2),
            minutes=minutes,
        )


def payments_of(tenant, invoice: Invoice) -> list[Payment]:
    with agency_context(tenant.agency):
        return list(Payment.objects.filter(invoice_id=invoice.pk))
