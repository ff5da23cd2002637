"""The fee report page for agency admins, with its CSV and XLSX downloads (the same page and
the same filters, ``format=csv`` or ``format=xlsx``), drawn like the requests report."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today
from billing import reports
from billing.money import format_money
from billing.report_forms import FeeReportForm
from billing.services.reports import fee_report_exported
from requests_portal import access as requests_access

TEMPLATE = "billing/report.html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The chart: one band per department (or month), the bars in it, the width of the longest.
BAR_HEIGHT, BAND, CHART_WIDTH = 20, 52, 400


def _bars(rows: list[reports.FeeRow], currency: str) -> dict[str, Any]:
    """Invoiced and collected per row, as bars scaled to the largest amount (integers)."""
    biggest = max([1, *(max(r.invoiced_cents, r.collected_cents) for r in rows)])
    bands = []
    for i, row in enumerate(rows):
        y = 10 + i * BAND
        bands.append(
            {
                "row": row,
                "y": y,
                "invoiced_width": CHART_WIDTH * max(row.invoiced_cents, 0) // biggest,
                "collected_width": CHART_WIDTH * max(row.collected_cents, 0) // biggest,
                "invoiced": format_money(row.invoiced_cents, currency),
                "collected": format_money(row.collected_cents, currency),
            }
        )
    return {"bands": bands, "height": 20 + BAND * len(rows)}


@require_safe
@agency_permission(policy.REPORTS_VIEW)
def fee_report(request: HttpRequest) -> HttpResponse:
    # Like the requests report: the default range is this year so far, today included, on
    # the agency's calendar; a range left out of a download link is the default too.
    agency = request.agency  # type: ignore[attr-defined]
    today = agency_today(agency)
    query = request.GET.copy()
    query.setdefault("start", today.replace(month=1, day=1).isoformat())
    query.setdefault("end", today.isoformat())
    departments = [(d.pk, d.name) for d in requests_access.departments_for(request.user, agency)]
    form = FeeReportForm(query, departments=departments)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    department = form.department_filter()
    report = reports.build_fee_report(agency, start, end, department=department)
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        fee_report_exported(
            agency=agency,
            actor=request.user,  # type: ignore[arg-type]
            export_format=export,
            start=start,
            end=end,
            department=form.department_label(),
            http_request=request,
        )
        name = f"fees-{agency.slug}-{start}-{end}"
        if export == "csv":
            response = HttpResponse(reports.to_csv(report), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(reports.to_xlsx(report, title="Fees"), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.{export}"'
        return response
    filters = f"start={start}&end={end}"
    if form.cleaned_data["department"]:
        filters += f"&department={form.cleaned_data['department']}"
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "report": report,
            "by_department": _bars(report.by_department, report.currency),
            "by_month": _bars(report.by_month, report.currency),
            "start": start,
            "end": end,
            "today": today,
            "query": filters,
        },
    )
