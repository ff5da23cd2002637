"""Reports: counts and response times by lead department, and their CSV and XLSX exports."""

import datetime
import io

import pytest

from accounts.local_time import agency_today
from accounts.tenancy import agency_context
from requests_portal import reports
from requests_portal.models import ClosureReason, Department
from requests_portal.services import agency_settings, lifecycle, submission

# Ranges, "overdue" and the page's default range (this year so far) count from today.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def _file(tenant, title, department=None, days_ago=0):
    request = submission.request_submit(
        agency=tenant.agency,
        actor=tenant.admin,
        title=title,
        description="Records about " + title,
        contact=submission.Contact(name="R", email="r@example.org"),
        department=department,
        channel="phone",
        received_on=agency_today(tenant.agency) - datetime.timedelta(days=days_ago),
    )
    return request


@pytest.fixture
def filed(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        clerk = Department.objects.get(agency=tenant.agency, name="Clerk")
        police = Department.objects.create(agency=tenant.agency, name="=HYPERLINK(evil)")
        a = _file(tenant, "alpha", clerk, days_ago=10)
        b = _file(tenant, "bravo", clerk, days_ago=4)
        _file(tenant, "charlie", police, days_ago=2)
        _file(tenant, "delta", None, days_ago=40)  # due long ago, never answered: overdue
        reason = ClosureReason.objects.get(agency=tenant.agency, name="No responsive records")
        for request in (a, b):
            lifecycle.request_close(records_request=request, actor=tenant.admin, reason=reason)
    return tenant


def test_report_counts_by_lead_department_and_in_total(filed):
    today = agency_today(filed.agency)
    with agency_context(filed.agency):
        rows, total = reports.build_report(
            filed.agency, today - datetime.timedelta(days=60), today, today
        )
    by_label = {row.label: row for row in rows}
    assert set(by_label) == {"Clerk", "=HYPERLINK(evil)", "No department"}
    assert (by_label["Clerk"].received, by_label["Clerk"].closed, by_label["Clerk"].open) == (
        2,
        2,
        0,
    )
    assert by_label["No department"].overdue == 1
    assert (total.received, total.closed, total.open, total.overdue) == (4, 2, 2, 1)
    # Received 10 and 4 days ago (staff-logged at local noon), both closed now.
    assert by_label["Clerk"].median_days_to_close == pytest.approx(7, abs=1)
    assert by_label["Clerk"].median_days_to_first_response == by_label["Clerk"].median_days_to_close


def test_report_range_excludes_requests_received_outside_it(filed):
    today = agency_today(filed.agency)
    with agency_context(filed.agency):
        _, total = reports.build_report(
            filed.agency, today - datetime.timedelta(days=5), today, today
        )
    assert total.received == 2


def test_exports_neutralise_formulas_and_open_as_spreadsheets(filed):
    from openpyxl import load_workbook

    today = agency_today(filed.agency)
    with agency_context(filed.agency):
        rows, total = reports.build_report(
            filed.agency, today - datetime.timedelta(days=366), today, today
        )
    text = reports.to_csv(rows, total)
    assert "'=HYPERLINK(evil)" in text
    assert "\n=HYPERLINK" not in text
    sheet = load_workbook(io.BytesIO(reports.to_xlsx(rows, total, "Requests"))).active
    values = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert values[0] == "Department"
    assert "'=HYPERLINK(evil)" in values
    assert values[-1] == "All departments"


def test_report_page_exports_and_rejects_a_backwards_range(filed, client_for):
    client = client_for(filed.admin, filed.host)
    page = client.get("/staff/reports/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    csv_response = client.get("/staff/reports/?start=2020-01-01&end=2030-01-01&format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    xlsx = client.get("/staff/reports/?start=2020-01-01&end=2030-01-01&format=xlsx")
    assert xlsx.content[:2] == b"PK"
    backwards = client.get("/staff/reports/?start=2026-05-01&end=2026-01-01")
    assert backwards.status_code == 400
    assert b"on or after the start date" in backwards.content


def test_report_runs_a_constant_number_of_queries(filed, client_for, django_assert_num_queries):
    client = client_for(filed.admin, filed.host)
    url = "/staff/reports/?start=2020-01-01&end=2030-01-01"
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    with agency_context(filed.agency):
        for n in range(15):
            _file(filed, f"more {n}", None, days_ago=n)
    with django_assert_num_queries(len(before.captured_queries)):
        client.get(url)
