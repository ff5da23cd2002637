"""Billing's figures on report pages: time in hours and minutes, and the staff cost and cost
recovery section of the requests report. requests_portal knows nothing of billing (it is
the lower layer): its report template loads these tags, as its request pages load the
documents panels, so the dependency points from billing's code down, never up."""

from __future__ import annotations

import datetime
from typing import Any

from django import template

from accounts import policy
from billing import cost_report

register = template.Library()


@register.filter
def hours_minutes(minutes: int | None) -> str:
    """Minutes as hours and minutes ("12 h 05 min")."""
    if not isinstance(minutes, int):
        return ""
    return f"{minutes // 60} h {minutes % 60:02d} min"


@register.inclusion_tag("billing/_cost_recovery.html", takes_context=True)
def cost_recovery_summary(
    context: template.Context, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """Staff cost and cost recovery from ``start`` to ``end`` for the page's agency; nothing
    for a person who may not see the agency's reports."""
    request = context.get("request")
    agency = getattr(request, "agency", None)
    user = getattr(request, "user", None)
    if (
        agency is None
        or user is None
        or not isinstance(start, datetime.date)
        or not isinstance(end, datetime.date)
        or not policy.can(user, agency, policy.REPORTS_VIEW)
    ):
        return {"summary": None}
    return {
        "summary": cost_report.build_cost_recovery(agency, start, end),
        "fee_report_query": f"start={start}&end={end}",
    }
