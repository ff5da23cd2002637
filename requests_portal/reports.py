"""Agency reports over a date range: how many requests came in, where they stand, and how
long the agency took to first respond and to close, overall and by lead department.
Computed in PostgreSQL (one grouped query), whatever the number of requests."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Extract, TruncDate

from accounts.local_time import agency_zone
from accounts.models import Agency
from requests_portal.models import RecordsRequest, RequestDepartment, Status


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _days(end_field: str):
    """Days between receipt and ``end_field``, as a float (None while it has not happened)."""
    return (
        Extract(
            ExpressionWrapper(F(end_field) - F("received_at"), output_field=DurationField()),
            "epoch",
        )
        / 86400.0
    )


@dataclass(frozen=True)
class ReportRow:
    label: str
    received: int
    open: int
    closed: int
    overdue: int
    paused: int
    median_days_to_first_response: float | None
    mean_days_to_first_response: float | None
    median_days_to_close: float | None
    mean_days_to_close: float | None


COLUMNS = [
    ("label", "Department"),
    ("received", "Received"),
    ("open", "Open"),
    ("closed", "Closed"),
    ("overdue", "Overdue"),
    ("paused", "Paused"),
    ("median_days_to_first_response", "Median days to first response"),
    ("mean_days_to_first_response", "Mean days to first response"),
    ("median_days_to_close", "Median days to close"),
    ("mean_days_to_close", "Mean days to close"),
]


def _aggregates(today: datetime.date) -> dict:
    open_statuses = [Status.SUBMITTED, Status.OPEN]
    return {
        "received": Count("pk"),
        "open": Count("pk", filter=Q(status__in=open_statuses)),
        "closed": Count("pk", filter=Q(status=Status.CLOSED)),
        "overdue": Count("pk", filter=Q(status__in=open_statuses, due_date__lt=today)),
        "paused": Count("pk", filter=Q(status=Status.PAUSED)),
        "median_days_to_first_response": Median(_days("first_response_at")),
        "mean_days_to_first_response": Avg(_days("first_response_at")),
        "median_days_to_close": Median(_days("closed_at")),
        "mean_days_to_close": Avg(_days("closed_at")),
    }


def build_report(agency: Agency, start: datetime.date, end: datetime.date, today: datetime.date):
    """Rows by lead department (requests without one under "No department"), then a total,
    of the requests received from ``start`` to ``end`` (both included, agency's calendar)."""
    # A range is of receipt days on the agency's calendar, not of day 0: a request that came
    # in this evening after the cut-off counts from tomorrow, yet it was received today.
    received = (
        RecordsRequest.objects.filter(agency=agency)
        .annotate(received_day=TruncDate("received_at", tzinfo=agency_zone(agency)))
        .filter(received_day__gte=start, received_day__lte=end)
    )
    lead_name = Subquery(
        RequestDepartment.objects.filter(agency=agency, request=OuterRef("pk"), is_lead=True)
        .order_by("pk")
        .values("department__name")[:1]
    )
    grouped = (
        received.annotate(lead_name=lead_name)
        .values("lead_name")
        .annotate(**_aggregates(today))
        .order_by("lead_name")
    )
    rows = [ReportRow(label=g.pop("lead_name") or "No department", **_rounded(g)) for g in grouped]
    total = received.aggregate(**_aggregates(today))
    return rows, ReportRow(label="All departments", **_rounded(total))


def _rounded(values: dict) -> dict:
    return {
        key: (round(value, 1) if isinstance(value, float) else value)
        for key, value in values.items()
    }


def to_csv(rows: list[ReportRow], total: ReportRow) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in COLUMNS])
    for row in [*rows, total]:
        writer.writerow([_cell(getattr(row, key)) for key, _ in COLUMNS])
    return out.getvalue()


def to_xlsx(rows: list[ReportRow], total: ReportRow, title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([title for _, title in COLUMNS])
    for row in [*rows, total]:
        sheet.append([_cell(getattr(row, key)) for key, _ in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value):
    # Department names come from admins; never let a spreadsheet read one as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
