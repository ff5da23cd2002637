"""Staff cost and cost recovery, for the general requests report (requests_portal knows
nothing of billing: its report page loads billing's template tag, billing/templatetags/
billing_reports.py, as the request pages load the documents panels).

Staff cost: every minute logged in the period (time entries whose day is in it, on the
agency's calendar) at the hourly rate of the person who logged it: their own rate
(``StaffRate`` with ``user``), else the rate of their role in the agency, else the fee
schedule's default, else nothing. Rates are today's (the schedule keeps no history).
Cost recovery: fees collected in the period less refunds made in it, as a share of that cost.
Both are grouped by the request's lead department, like the report's table. Three queries.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce

from accounts.models import Agency, Membership
from billing.models import FeeSchedule, StaffRate
from billing.reports import (
    TOTAL_LABEL,
    build_fee_report,
    labelled_by_department,
    lead_department,
)
from requests_portal.models import TimeEntry


@dataclass
class CostRow:
    label: str
    department_id: int | None = None
    minutes: int = 0
    staff_cost_cents: int = 0
    collected_cents: int = 0
    refunded_cents: int = 0

    @property
    def net_collected_cents(self) -> int:
        return self.collected_cents - self.refunded_cents

    @property
    def recovery_bps(self) -> int | None:
        """Net fees collected as a share of staff cost, in basis points (12.5 % = 1250),
        rounded half up; None when there was no cost to recover."""
        if self.staff_cost_cents <= 0:
            return None
        return (self.net_collected_cents * 10_000 * 2 + self.staff_cost_cents) // (
            2 * self.staff_cost_cents
        )


@dataclass
class CostRecovery:
    currency: str
    rows: list[CostRow] = field(default_factory=list)
    total: CostRow = field(default_factory=lambda: CostRow(label=TOTAL_LABEL))


def hourly_rate(agency: Agency) -> Coalesce:
    """The hourly rate in cents of the person who logged a time entry (``user`` of the
    row): their own, their role's, the schedule's default, or 0."""
    own = StaffRate.objects.filter(agency=agency, user=OuterRef("user")).values("hourly_cents")[:1]
    role = Membership.objects.filter(agency=agency, user=OuterRef(OuterRef("user"))).values("role")[
        :1
    ]
    by_role = StaffRate.objects.filter(
        agency=agency, user__isnull=True, role=Subquery(role)
    ).values("hourly_cents")[:1]
    default = FeeSchedule.objects.filter(agency=agency).values("default_hourly_cents")[:1]
    return Coalesce(
        Subquery(own, output_field=IntegerField()),
        Subquery(by_role, output_field=IntegerField()),
        Subquery(default, output_field=IntegerField()),
        Value(0),
        output_field=IntegerField(),
    )


def cents_of_minutes(rate_minutes: int) -> int:
    """Cents from minutes times hourly cents, rounded half up (the sum is divided once, at the
    end, so a department's cost is not the sum of rounded entries)."""
    return (rate_minutes + 30) // 60


def build_cost_recovery(agency: Agency, start: datetime.date, end: datetime.date) -> CostRecovery:
    time_spent = (
        TimeEntry.objects.filter(agency=agency, day__gte=start, day__lte=end)
        .annotate(
            lead=lead_department(agency, "request"),
            # minutes times cents overflows a 32-bit integer past ~35,000 hours at $1,000.
            rate_minutes=Cast("minutes", BigIntegerField())
            * Cast(hourly_rate(agency), BigIntegerField()),
        )
        .values("lead")
        .annotate(logged=Sum("minutes"), cost=Sum("rate_minutes"))
        .order_by()
    )
    fees = build_fee_report(agency, start, end)
    by_lead: dict[int | None, CostRow] = {}
    for group in time_spent:
        row = by_lead.setdefault(group["lead"], CostRow(label=""))
        row.minutes += group["logged"] or 0
        row.staff_cost_cents += cents_of_minutes(group["cost"] or 0)
    for fee_row in fees.by_department:
        row = by_lead.setdefault(fee_row.department_id, CostRow(label=fee_row.label))
        row.collected_cents += fee_row.collected_cents
        row.refunded_cents += fee_row.refunded_cents
    result = CostRecovery(currency=fees.currency)
    result.rows = labelled_by_department(agency, by_lead)
    for row in result.rows:
        result.total.minutes += row.minutes
        result.total.staff_cost_cents += row.staff_cost_cents
        result.total.collected_cents += row.collected_cents
        result.total.refunded_cents += row.refunded_cents
    return result
