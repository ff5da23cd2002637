"""Tenant-scoped reads of billing data. Views, template tags and tasks reach billing rows only
through here; another agency's invoice, or one the reader may not see, answers 404 exactly
like a missing one.

Who reads what:
- staff holding ``invoice.view`` (every role) read the invoices of the requests they can
  open (requests_portal.access.staff_requests_for decides which);
- the requester (signed in, or through the tracking link of the request) reads the invoices
  of their own request that were sent (never a draft); the public reads none.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from accounts import policy
from accounts.models import Agency, Membership, User
from billing.models import (
    ACTIVE_STATUSES,
    BilledTime,
    FeeItem,
    FeeSchedule,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Refund,
    StaffRate,
)
from requests_portal import access as request_access
from requests_portal.models import RecordsRequest, TimeEntry

# --- The fee schedule --------------------------------------------------------------------------


def fee_schedule(agency: Agency) -> FeeSchedule:
    """The agency's schedule, or an unsaved one with the defaults (nothing charged) when its
    admins never saved one."""
    found = FeeSchedule.objects.filter(agency=agency).first()
    return found if found is not None else FeeSchedule(agency=agency)


def fee_items_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[FeeItem]:
    """Every fee item (active and not) for the settings page."""
    if not policy.can(user, agency, policy.BILLING_SETTINGS):
        return FeeItem.objects.none()
    return FeeItem.objects.filter(agency=agency)


def fee_item_for(user: User | AnonymousUser, agency: Agency, item_id: int) -> FeeItem:
    found = fee_items_for(user, agency).filter(pk=item_id).first()
    if found is None:
        raise Http404
    return found


def active_fee_items(agency: Agency) -> QuerySet[FeeItem]:
    """The fees an invoice line may pick."""
    return FeeItem.objects.filter(agency=agency, is_active=True)


def staff_rates_for(user: User | AnonymousUser, agency: Agency) -> QuerySet[StaffRate]:
    if not policy.can(user, agency, policy.BILLING_SETTINGS):
        return StaffRate.objects.none()
    return StaffRate.objects.filter(agency=agency).select_related("user").order_by("role", "pk")


def staff_rate_for(user: User | AnonymousUser, agency: Agency, rate_id: int) -> StaffRate:
    found = staff_rates_for(user, agency).filter(pk=rate_id).first()
    if found is None:
        raise Http404
    return found


def rate_table(agency: Agency) -> tuple[dict[int, int], dict[str, int]]:
    """(hourly cents by user id, hourly cents by role) of the agency's staff rates."""
    by_user: dict[int, int] = {}
    by_role: dict[str, int] = {}
    for rate in StaffRate.objects.filter(agency=agency):
        if rate.user_id is not None:
            by_user[rate.user_id] = rate.hourly_cents
        elif rate.role:
            by_role[rate.role] = rate.hourly_cents
    return by_user, by_role


# --- Staff reads of invoices --------------------------------------------------------------------


def _staff_sees(user: User | AnonymousUser, agency: Agency, records_request_id: int) -> bool:
    return (
        policy.can(user, agency, policy.INVOICE_VIEW)
        and request_access.staff_requests_for(user, agency).filter(pk=records_request_id).exists()
    )


def invoices_for_request(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> QuerySet[Invoice]:
    """The request's invoices, newest first, for staff who can open the request."""
    if records_request.agency_id != agency.pk or not _staff_sees(user, agency, records_request.pk):
        return Invoice.objects.none()
    return Invoice.objects.filter(agency=agency, request=records_request)


def invoices_for_staff(user: User | AnonymousUser, agency: Agency) -> QuerySet[Invoice]:
    """Every invoice on the requests the user can open, for staff who may see invoices (the
    API's invoice list); none for anyone else."""
    if not policy.can(user, agency, policy.INVOICE_VIEW):
        return Invoice.objects.none()
    visible = request_access.staff_requests_for(user, agency).values("pk")
    return Invoice.objects.filter(agency=agency, request__in=visible)


def invoice_for_staff(user: User | AnonymousUser, agency: Agency, invoice_id: int) -> Invoice:
    found = (
        Invoice.objects.filter(agency=agency, pk=invoice_id)
        .select_related("request", "agency")
        .first()
    )
    if found is None or not _staff_sees(user, agency, found.request_id):
        raise Http404
    return found


def active_invoice(records_request: RecordsRequest) -> Invoice | None:
    """The request's one draft or unpaid invoice, if any."""
    return Invoice.objects.filter(
        agency=records_request.agency_id, request=records_request, status__in=ACTIVE_STATUSES
    ).first()


# --- The requester's reads -----------------------------------------------------------------------


def invoice_for_requester(http_request: HttpRequest, agency: Agency, invoice_id: int) -> Invoice:
    """A sent invoice of the reader's own request: signed in as its requester, or holding
    the request's tracking link (``?t=``), exactly as the resident request page decides."""
    found = (
        Invoice.objects.filter(agency=agency, pk=invoice_id)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("request", "agency")
        .first()
    )
    if found is None:
        raise Http404
    tracking = http_request.GET.get("t", "")
    view = request_access.get_request_for_resident(
        http_request.user, agency, found.request.number, tracking
    )
    if view.viewer != request_access.Viewer.REQUESTER or view.request.pk != found.request_id:
        raise Http404
    return found


def requester_invoices(view: request_access.PublicView) -> list[Invoice]:
    """What the requester sees on their request page: every invoice that was sent, newest
    first. The public sees none."""
    if view.viewer != request_access.Viewer.REQUESTER:
        return []
    return list(
        Invoice.objects.filter(agency=view.request.agency_id, request=view.request).exclude(
            status=InvoiceStatus.DRAFT
        )
    )


# --- An invoice's rows (the caller fetched the invoice through a helper above) -------------------


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    return InvoiceLine.objects.filter(agency=invoice.agency_id, invoice=invoice).select_related(
        "staff"
    )


def invoice_payments(invoice: Invoice) -> QuerySet[Payment]:
    return Payment.objects.filter(agency=invoice.agency_id, invoice=invoice)


def payment_refunds(payment: Payment) -> QuerySet[Refund]:
    return Refund.objects.filter(agency=payment.agency_id, payment=payment)


def unbilled_time_entries(records_request: RecordsRequest) -> QuerySet[TimeEntry]:
    """The request's time entries no invoice bills yet: an entry on a line of an invoice
    that is not void is billed (a voided invoice frees its entries for the next one)."""
    billed = BilledTime.objects.filter(agency=records_request.agency_id).exclude(
        line__invoice__status=InvoiceStatus.VOID
    )
    return (
        TimeEntry.objects.filter(agency=records_request.agency_id, request=records_request)
        .exclude(pk__in=billed.values("time_entry_id"))
        .select_related("user")
        .order_by("user_id", "day", "pk")
    )


def payment_for_task(agency_id: int, payment_id: int) -> Payment | None:
    """A payment with its invoice and request, for a task running in the agency's context."""
    return (
        Payment.objects.filter(agency_id=agency_id, pk=payment_id)
        .select_related("invoice", "invoice__request", "invoice__agency")
        .first()
    )


def payment_by_intent(agency: Agency, payment_intent: str) -> Payment | None:
    if not payment_intent:
        return None
    return Payment.objects.filter(agency=agency, stripe_payment_intent=payment_intent).first()


def invoice_totals(agency: Agency, statuses: Iterable[str] | None = None) -> QuerySet[Invoice]:
    """The agency's invoices (in ``statuses``), for summaries."""
    found = Invoice.objects.filter(agency=agency)
    return found.filter(status__in=list(statuses)) if statuses is not None else found


# --- Names for the audit log (registered in apps.py) ---------------------------------------------


def invoice_names(agency_id: int, invoice_ids: Iterable[str]) -> dict[str, str]:
    """Invoice id → "invoice INV-2026-0007"."""
    ids = [int(v) for v in invoice_ids if str(v).isdigit()]
    rows = Invoice.objects.filter(Q(agency_id=agency_id) & Q(pk__in=ids)).only("year", "sequence")
    return {str(row.pk): f"invoice {row.number}" for row in rows}


# --- The agency's people (for hourly rates) ---------------------------------------------------


def agency_staff(user: User | AnonymousUser, agency: Agency) -> list[User]:
    """The agency's active staff, by email, for the rate form (fee settings readers only)."""
    if not policy.can(user, agency, policy.BILLING_SETTINGS):
        return []
    return [
        membership.user
        for membership in Membership.objects.filter(
            agency=agency, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__email")
    ]


def staff_member_for(user: User | AnonymousUser, agency: Agency, user_id: int) -> User:
    for person in agency_staff(user, agency):
        if person.pk == user_id:
            return person
    raise Http404
