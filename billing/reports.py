"""The fee report: what an agency invoiced, collected, waived, refunded and is still owed over
a period, by the request's lead department and by month. Sums are taken in PostgreSQL (a few
grouped queries, whatever the number of invoices) and stay integer cents to the last digit.

A period is two days on the agency's calendar, both included. Each figure counts the moment
its own event happened, on the agency's clock:

- invoiced and waived: invoices *sent* in the period (``sent_at``), unless voided by its end
  (a voided invoice is re-issued, and the re-issue is what was charged);
- collected: payments *received* in the period (``received_at``);
- refunded: refunds *made* in the period (``created_at``), failed or cancelled ones left out;
- outstanding: what sent and partly paid invoices were still owed at the period's end
  (payments received after it do not reduce it; invoices voided, or refunded and closed, by
  then owe nothing).

Department is the request's lead department ("No department" when it has none), as in the
requests report (requests_portal.reports). Exports reuse that report's neutralising of
spreadsheet formulas.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth

from accounts.local_time import agency_zone
from accounts.models import Agency
from billing.models import FeeSchedule, Invoice, InvoiceStatus, Payment, Refund
from billing.money import format_input
from requests_portal.models import Department, RequestDepartment
from requests_portal.reports import _cell as neutralised

# The department filter: every department, the requests with no lead department, or one.
ALL_DEPARTMENTS = None
NO_DEPARTMENT = "none"
DepartmentFilter = int | str | None

NO_DEPARTMENT_LABEL = "No department"
TOTAL_LABEL = "All departments"
# Refund states that mean the money did not (and will not) go back.
REFUND_NOT_MADE = ("failed", "canceled")


@dataclass(frozen=True)
class Period:
    """Two days on the agency's calendar, both included."""

    start: datetime.date
    end: datetime.date

    def bounds(self, agency: Agency) -> tuple[datetime.datetime, datetime.datetime]:
        """[from, until): midnight starting ``start`` to midnight after ``end``, agency time.
        A half-open range of instants keeps the indexes on the timestamps usable and counts
        an event at 23:59:59 of the last day, whatever the server's zone."""
        zone = agency_zone(agency)
        since = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone)
        until = datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        return since, until

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches, in order."""
        month = self.start.replace(day=1)
        found = []
        while month <= self.end:
            found.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return found


@dataclass
class FeeRow:
    label: str
    invoices_sent: int = 0
    invoiced_cents: int = 0
    waived_cents: int = 0
    payments: int = 0
    collected_cents: int = 0
    refunds: int = 0
    refunded_cents: int = 0
    # None on month rows: what is owed is a figure of one moment (the period's end).
    invoices_outstanding: int | None = 0
    outstanding_cents: int | None = 0
    month: datetime.date | None = None
    # The lead department's id on department rows (None: no department, or not such a row).
    department_id: int | None = None

    @property
    def net_collected_cents(self) -> int:
        return self.collected_cents - self.refunded_cents

    def add(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            current = getattr(self, key)
            setattr(self, key, (current or 0) + (value or 0))


@dataclass
class FeeReport:
    agency: Agency
    period: Period
    currency: str
    department: DepartmentFilter
    by_department: list[FeeRow] = field(default_factory=list)
    by_month: list[FeeRow] = field(default_factory=list)
    total: FeeRow = field(default_factory=lambda: FeeRow(label=TOTAL_LABEL))


# (attribute, column title, is an amount in cents)
COLUMNS: list[tuple[str, str, bool]] = [
    ("label", "Department", False),
    ("invoices_sent", "Invoices sent", False),
    ("invoiced_cents", "Invoiced", True),
    ("waived_cents", "Waived", True),
    ("payments", "Payments", False),
    ("collected_cents", "Collected", True),
    ("refunds", "Refunds", False),
    ("refunded_cents", "Refunded", True),
    ("net_collected_cents", "Collected less refunds", True),
    ("invoices_outstanding", "Invoices owed at the end", False),
    ("outstanding_cents", "Outstanding at the end", True),
]


def currency_of(agency: Agency) -> str:
    """The agency's one billing currency (its fee schedule's; US dollars before it has one)."""
    schedule = FeeSchedule.objects.filter(agency=agency).values_list("currency", flat=True)
    return schedule.first() or "usd"


def lead_department(agency: Agency, request_path: str) -> Subquery:
    """The id of the lead department of the request found at ``request_path``."""
    return Subquery(
        RequestDepartment.objects.filter(
            agency=agency, request=OuterRef(request_path), is_lead=True
        )
        .order_by("pk")
        .values("department_id")[:1],
        output_field=IntegerField(),
    )


def _scoped(queryset: QuerySet[Any], department: DepartmentFilter) -> QuerySet[Any]:
    """Rows annotated with ``lead`` (their request's lead department), filtered to one."""
    if department == NO_DEPARTMENT:
        return queryset.filter(lead__isnull=True)
    if department is not None:
        return queryset.filter(lead=department)
    return queryset


def _grouped(queryset: QuerySet[Any], month_field: str | None, agency: Agency, **sums: Any):
    """Sums by lead department and (with ``month_field``) by month on the agency's clock."""
    keys = ["lead"]
    if month_field:
        queryset = queryset.annotate(
            month=TruncMonth(month_field, output_field=DateField(), tzinfo=agency_zone(agency))
        )
        keys.append("month")
    return queryset.values(*keys).annotate(**sums).order_by()


def _invoices_sent(agency: Agency, since, until, department: DepartmentFilter):
    invoices = (
        Invoice.objects.filter(agency=agency, sent_at__gte=since, sent_at__lt=until)
        .exclude(status=InvoiceStatus.DRAFT)
        .exclude(voided_at__lt=until)
        .annotate(lead=lead_department(agency, "request"))
    )
    return _grouped(
        _scoped(invoices, department),
        "sent_at",
        agency,
        invoices_sent=Count("pk"),
        invoiced_cents=Sum("total_cents"),
        waived_cents=Sum("waived_cents"),
    )


def _payments(agency: Agency, since, until, department: DepartmentFilter):
    payments = Payment.objects.filter(
        agency=agency, received_at__gte=since, received_at__lt=until
    ).annotate(lead=lead_department(agency, "invoice__request"))
    return _grouped(
        _scoped(payments, department),
        "received_at",
        agency,
        payments=Count("pk"),
        collected_cents=Sum("amount_cents"),
    )


def _refunds(agency: Agency, since, until, department: DepartmentFilter):
    refunds = (
        Refund.objects.filter(agency=agency, created_at__gte=since, created_at__lt=until)
        .exclude(status__in=REFUND_NOT_MADE)
        .annotate(lead=lead_department(agency, "payment__invoice__request"))
    )
    return _grouped(
        _scoped(refunds, department),
        "created_at",
        agency,
        refunds=Count("pk"),
        refunded_cents=Sum("amount_cents"),
    )


def _outstanding(agency: Agency, until, department: DepartmentFilter):
    """What was owed at ``until``: sent by then, neither voided nor refunded-and-closed by
    then, less the payments received by then."""
    paid_by_then = (
        Payment.objects.filter(agency=agency, invoice=OuterRef("pk"), received_at__lt=until)
        .values("invoice")
        .annotate(paid=Sum("amount_cents"))
        .values("paid")
    )
    refunded_by_then = Refund.objects.filter(
        agency=agency, payment__invoice=OuterRef("pk"), created_at__lt=until
    ).exclude(status__in=REFUND_NOT_MADE)
    invoices = (
        Invoice.objects.filter(agency=agency, sent_at__lt=until)
        .exclude(status=InvoiceStatus.DRAFT)
        .exclude(voided_at__lt=until)
        .exclude(Q(status=InvoiceStatus.REFUNDED) & Exists(refunded_by_then))
        .annotate(
            lead=lead_department(agency, "request"),
            owed=F("total_cents")
            - Coalesce(Subquery(paid_by_then, output_field=IntegerField()), Value(0)),
        )
        .filter(owed__gt=0)
    )
    return _grouped(
        _scoped(invoices, department),
        None,
        agency,
        invoices_outstanding=Count("pk"),
        outstanding_cents=Sum("owed"),
    )


class _Labelled(Protocol):
    label: str
    department_id: int | None


_Row = TypeVar("_Row", bound=_Labelled)


def labelled_by_department(agency: Agency, by_lead: Mapping[int | None, _Row]) -> list[_Row]:
    """The rows named after their lead department (one query), sorted by name, the requests
    without one last."""
    ids = {lead for lead in by_lead if lead is not None}
    names = dict(Department.objects.filter(agency=agency, pk__in=ids).values_list("pk", "name"))
    for lead, row in by_lead.items():
        row.department_id = lead
        row.label = names.get(lead, NO_DEPARTMENT_LABEL) if lead else NO_DEPARTMENT_LABEL
    return sorted(
        by_lead.values(), key=lambda row: (row.label == NO_DEPARTMENT_LABEL, row.label.lower())
    )


def build_fee_report(
    agency: Agency,
    start: datetime.date,
    end: datetime.date,
    *,
    department: DepartmentFilter = ALL_DEPARTMENTS,
) -> FeeReport:
    """The fee report of ``agency`` from ``start`` to ``end`` (both included, the agency's
    calendar), for every department, the requests without one (``NO_DEPARTMENT``) or one
    department's (its id). Six queries, whatever the number of rows."""
    period = Period(start, end)
    since, until = period.bounds(agency)
    report = FeeReport(
        agency=agency, period=period, currency=currency_of(agency), department=department
    )
    by_lead: dict[int | None, FeeRow] = {}
    by_month = {
        month: FeeRow(
            label=f"{month.year}-{month.month:02d}",
            month=month,
            invoices_outstanding=None,
            outstanding_cents=None,
        )
        for month in period.months()
    }
    grouped = [
        *_invoices_sent(agency, since, until, department),
        *_payments(agency, since, until, department),
        *_refunds(agency, since, until, department),
    ]
    for group in grouped:
        lead, month = group.pop("lead"), group.pop("month")
        by_lead.setdefault(lead, FeeRow(label="")).add(group)
        if month in by_month:
            by_month[month].add(group)
        report.total.add(group)
    for group in _outstanding(agency, until, department):
        lead = group.pop("lead")
        by_lead.setdefault(lead, FeeRow(label="")).add(group)
        report.total.add(group)
    report.by_department = labelled_by_department(agency, by_lead)
    report.by_month = list(by_month.values())
    return report


# --- Exports ----------------------------------------------------------------------------------


def _headers(report: FeeReport, first: str, unit: str = "") -> list[str]:
    code = f"{report.currency.upper()} {unit}".strip()
    return [first, *(f"{title} ({code})" if money else title for _, title, money in COLUMNS[1:])]


def _rows(report: FeeReport) -> list[tuple[str, FeeRow]]:
    """Every row of a file: departments, the total, then the months (the first column says
    which table a row belongs to)."""
    return [
        *(("department", row) for row in report.by_department),
        ("total", report.total),
        *(("month", row) for row in report.by_month),
    ]


def _values(row: FeeRow, *, money) -> list[Any]:
    values: list[Any] = []
    for key, _, is_money in COLUMNS:
        value = getattr(row, key)
        values.append(money(value) if is_money and value is not None else neutralised(value))
    return values


def to_csv(report: FeeReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Table", *_headers(report, "Department or month")])
    for table, row in _rows(report):
        writer.writerow([table, *_values(row, money=format_input)])
    return out.getvalue()


def to_xlsx(report: FeeReport, title: str) -> bytes:
    """Amounts stay integer cents in number cells (their headers say so): exact, and a sum of
    a column is exact too; no float ever holds an amount."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(["Table", *_headers(report, "Department or month", unit="cents")])
    for table, row in _rows(report):
        sheet.append([table, *_values(row, money=int)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
