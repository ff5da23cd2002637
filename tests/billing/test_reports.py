"""The fee report (invoiced, collected, waived, refunded and outstanding by lead department and
month, on the agency's calendar), its page and downloads, and the requests report's staff cost
and cost recovery. Rows are made with the ORM (as the billing services would leave them), so
these tests stand apart from the services' own."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from billing import cost_report, reports
from billing.models import (
    FeeSchedule,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
    StaffRate,
)
from billing.services import payments
from requests_portal.models import Department, TimeEntry
from requests_portal.services import submission
from tests.billing.helpers import sent_invoice

# The test agencies are in Chicago (tests/factories.py); periods are its calendar days.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

CHICAGO = ZoneInfo("America/Chicago")
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
_numbers = itertools.count(1)


def at(day: str, clock: str = "12:00") -> datetime.datetime:
    """A moment on the agency's clock ("2026-03-31", "23:30")."""
    return datetime.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CHICAGO)


def file(tenant, department=None, title="Fee records"):
    with agency_context(tenant.agency):
        return submission.request_submit(
            agency=tenant.agency,
            actor=tenant.admin,
            title=title,
            description="Records about " + title,
            contact=submission.Contact(name="R", email="r@example.org"),
            department=department,
            channel="phone",
        )


def invoice(tenant, *, total, sent_at=None, department=None, status=InvoiceStatus.SENT, **more):
    """An invoice on a request of its own (one active invoice per request)."""
    records_request = file(tenant, department)
    with agency_context(tenant.agency):
        return Invoice.objects.create(
            agency=tenant.agency,
            request=records_request,
            year=2026,
            sequence=next(_numbers),
            status=status,
            currency="usd",
            subtotal_cents=total + more.get("waived_cents", 0),
            total_cents=total,
            sent_at=sent_at,
            **more,
        )


def pay(tenant, bill, amount, received_at):
    with agency_context(tenant.agency):
        bill.paid_cents += amount
        if bill.paid_cents >= bill.total_cents:
            bill.status = InvoiceStatus.PAID
        elif bill.status == InvoiceStatus.SENT:
            bill.status = InvoiceStatus.PARTIALLY_PAID
        bill.save()
        return Payment.objects.create(
            agency=tenant.agency,
            invoice=bill,
            method=PaymentMethod.CHEQUE,
            amount_cents=amount,
            received_at=received_at,
        )


def refund(tenant, payment, amount, created_at, status="succeeded"):
    with agency_context(tenant.agency):
        return Refund.objects.create(
            agency=tenant.agency,
            payment=payment,
            amount_cents=amount,
            reason="Overcharged",
            status=status,
            created_at=created_at,
        )


def department(tenant, name):
    with agency_context(tenant.agency):
        return Department.objects.get_or_create(agency=tenant.agency, name=name)[0]


def fee_report(tenant, start, end, **kwargs):
    with agency_context(tenant.agency):
        return reports.build_fee_report(tenant.agency, start, end, **kwargs)


# --- The sums -----------------------------------------------------------------------------------


def test_each_figure_counts_its_own_event_inside_the_period_on_the_agency_calendar(tenant):
    # Sent: 23:30 on the last day counts (already April 1st in UTC); 00:30 the day after and
    # 23:30 the day before the first do not (the first is still February 28th in Chicago,
    # though March 1st in UTC).
    last_evening = invoice(
        tenant, total=10_000, sent_at=at("2026-03-31", "23:30"), waived_cents=500
    )
    invoice(tenant, total=20_000, sent_at=at("2026-04-01", "00:30"))
    before = invoice(tenant, total=40_000, sent_at=at("2026-02-28", "23:30"))
    first_morning = invoice(tenant, total=1_000, sent_at=at("2026-03-01", "00:10"))
    invoice(tenant, total=3_000, status=InvoiceStatus.DRAFT)  # never sent: no figure
    # Collected: payments received in March, whichever month their invoice was sent.
    early = pay(tenant, before, 15_000, at("2026-03-01", "00:05"))
    pay(tenant, last_evening, 2_500, at("2026-03-31", "23:59"))
    pay(tenant, first_morning, 1_000, at("2026-04-01", "00:01"))  # April
    # Refunded: by the day the refund was made; a failed refund is no refund.
    refund(tenant, early, 700, at("2026-03-31", "23:30"))
    refund(tenant, early, 300, at("2026-04-01", "00:30"))
    refund(tenant, early, 900, at("2026-03-15"), status="failed")

    total = fee_report(tenant, *MARCH).total

    assert (total.invoices_sent, total.invoiced_cents, total.waived_cents) == (2, 11_000, 500)
    assert (total.payments, total.collected_cents) == (2, 17_500)
    assert (total.refunds, total.refunded_cents) == (1, 700)
    assert total.net_collected_cents == 16_800
    # Owed at midnight ending March 31st: 7,500 of the late invoice, 25,000 of the February
    # one, 1,000 of the March 1st one (paid a minute into April); the April one was not sent.
    assert (total.invoices_outstanding, total.outstanding_cents) == (3, 33_500)


def test_outstanding_is_what_was_owed_at_the_period_end(tenant):
    end_of_march = at("2026-03-31", "23:00")
    part_paid = invoice(tenant, total=10_000, sent_at=at("2026-02-10"))
    pay(tenant, part_paid, 4_000, at("2026-03-10"))
    pay(tenant, part_paid, 6_000, at("2026-04-01", "00:30"))  # after the end: still owed then
    voided_in_march = invoice(
        tenant, total=5_000, sent_at=at("2026-03-02"), status=InvoiceStatus.VOID
    )
    with agency_context(tenant.agency):
        Invoice.objects.filter(pk=voided_in_march.pk).update(voided_at=at("2026-03-20"))
    voided_later = invoice(tenant, total=7_000, sent_at=at("2026-03-03"), status=InvoiceStatus.VOID)
    with agency_context(tenant.agency):
        Invoice.objects.filter(pk=voided_later.pk).update(voided_at=at("2026-04-05"))
    paid_in_full = invoice(tenant, total=2_000, sent_at=at("2026-03-04"))
    pay(tenant, paid_in_full, 2_000, at("2026-03-05"))
    refunded = invoice(tenant, total=3_000, sent_at=at("2026-03-06"))
    payment = pay(tenant, refunded, 1_000, at("2026-03-07"))  # a deposit, then all given back
    refund(tenant, payment, 1_000, end_of_march)
    with agency_context(tenant.agency):
        Invoice.objects.filter(pk=refunded.pk).update(
            status=InvoiceStatus.REFUNDED, refunded_cents=1_000
        )

    march = fee_report(tenant, *MARCH).total
    # 6,000 of the part-paid one; the one voided after March was still owed in March.
    assert (march.invoices_outstanding, march.outstanding_cents) == (2, 13_000)
    # The invoice voided in March counts as invoiced nowhere; the later-voided one in March.
    assert march.invoiced_cents == 7_000 + 2_000 + 3_000
    february = fee_report(tenant, datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)).total
    assert (february.invoices_outstanding, february.outstanding_cents) == (1, 10_000)
    # Refunded and closed before the end of the period: owes nothing. Before the refund, the
    # rest of it was owed.
    assert march.refunded_cents == 1_000
    first_week = fee_report(tenant, datetime.date(2026, 3, 1), datetime.date(2026, 3, 7)).total
    # By March 7th: nothing paid on the February invoice yet, neither void voided yet, the
    # one paid in full paid, 1,000 of the later-refunded one paid.
    assert first_week.outstanding_cents == 10_000 + 5_000 + 7_000 + (3_000 - 1_000)


def test_rows_by_lead_department_and_by_month_add_up_to_the_total(tenant):
    clerk = department(tenant, "Clerk")
    police = department(tenant, "Police")
    a = invoice(tenant, total=1_000, sent_at=at("2026-01-15"), department=clerk)
    b = invoice(tenant, total=2_000, sent_at=at("2026-02-15"), department=police)
    invoice(tenant, total=4_000, sent_at=at("2026-03-15"))
    pay(tenant, a, 1_000, at("2026-02-01"))
    pay(tenant, b, 500, at("2026-03-01"))

    report = fee_report(tenant, datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))

    rows = {row.label: row for row in report.by_department}
    assert list(rows) == ["Clerk", "Police", "No department"]
    assert (rows["Clerk"].invoiced_cents, rows["Clerk"].collected_cents) == (1_000, 1_000)
    assert (rows["Police"].invoiced_cents, rows["Police"].collected_cents) == (2_000, 500)
    assert rows["Police"].outstanding_cents == 1_500
    assert rows["No department"].invoiced_cents == 4_000
    assert rows["Clerk"].department_id == clerk.pk
    months = {row.label: row for row in report.by_month}
    assert list(months) == ["2026-01", "2026-02", "2026-03"]
    assert [m.invoiced_cents for m in months.values()] == [1_000, 2_000, 4_000]
    assert [m.collected_cents for m in months.values()] == [0, 1_000, 500]
    assert report.total.invoiced_cents == sum(r.invoiced_cents for r in report.by_department)
    assert report.total.collected_cents == sum(m.collected_cents for m in report.by_month)

    only_police = fee_report(tenant, *MARCH, department=police.pk)
    assert [row.label for row in only_police.by_department] == ["Police"]
    assert only_police.total.collected_cents == 500
    none = fee_report(tenant, *MARCH, department=reports.NO_DEPARTMENT)
    assert [row.label for row in none.by_department] == ["No department"]
    assert none.total.invoiced_cents == 4_000


def test_another_agencys_fees_are_never_counted(tenant, other_tenant):
    mine = invoice(tenant, total=1_000, sent_at=at("2026-03-10"))
    pay(tenant, mine, 1_000, at("2026-03-11"))
    theirs = invoice(other_tenant, total=90_000, sent_at=at("2026-03-10"))
    payment = pay(other_tenant, theirs, 50_000, at("2026-03-11"))
    refund(other_tenant, payment, 100, at("2026-03-12"))

    # Row-level security hides the other agency's rows, and the queries name the agency.
    total = fee_report(tenant, *MARCH).total
    assert (total.invoiced_cents, total.collected_cents, total.refunded_cents) == (1_000, 1_000, 0)
    assert total.outstanding_cents == 0
    # In the other agency's context (its rows visible), a report of this agency still
    # counts only this agency's rows: the agency filter of every query, not RLS alone.
    with agency_context(other_tenant.agency):
        seen_from_there = reports.build_fee_report(tenant.agency, *MARCH).total
    assert seen_from_there.invoiced_cents == 0
    assert seen_from_there.collected_cents == 0
    assert seen_from_there.refunded_cents == 0
    assert seen_from_there.outstanding_cents == 0


# --- The page -----------------------------------------------------------------------------------

URL = "/staff/billing/reports/fees/"


def test_the_page_has_its_url_name():
    assert reverse("billing:fee_report") == URL


@pytest.mark.parametrize(
    ("persona", "status"),
    [("publisher", 403), ("department_admin", 403), ("staff", 403), ("requester", 404)],
)
def test_only_those_who_see_reports_open_the_fee_report(tenant, client_for, persona, status):
    client = client_for(getattr(tenant, persona), tenant.host)
    assert client.get(URL).status_code == status
    assert client.get(URL + "?format=csv").status_code == status


def test_an_outsider_gets_404_and_a_visitor_is_sent_to_sign_in(tenant, outsider, client_for):
    assert client_for(outsider, tenant.host).get(URL).status_code == 404
    assert client_for(outsider, tenant.host).get(URL + "?format=xlsx").status_code == 404
    visitor = client_for(None, tenant.host).get(URL)
    assert visitor.status_code == 302
    assert "/accounts/login/" in visitor["Location"]


def test_the_admin_sees_the_chart_the_tables_and_the_money(tenant, client_for):
    clerk = department(tenant, "Clerk")
    bill = invoice(tenant, total=123_456, sent_at=at("2026-03-10"), department=clerk)
    pay(tenant, bill, 100_000, at("2026-03-11"))
    page = client_for(tenant.admin, tenant.host).get(
        URL, {"start": "2026-03-01", "end": "2026-03-31"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'class="chart-bar"' in html and 'class="chart-bar-alt"' in html
    assert "$1,234.56" in html  # invoiced
    assert "$1,000.00" in html  # collected
    assert "$234.56" in html  # outstanding
    assert "March 2026" in html
    assert 'href="?start=2026-03-01&amp;end=2026-03-31&amp;format=csv"' in html
    with agency_context(tenant.agency):
        viewed = AuditEvent.objects.filter(
            agency=tenant.agency, action="page.view", details__view="billing:fee_report"
        )
        assert viewed.exists()


def test_the_reports_link_to_each_other(tenant, client_for):
    client = client_for(tenant.admin, tenant.host)
    assert URL in client.get("/staff/reports/").content.decode()
    assert 'href="/staff/reports/"' in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-13-45"}, "start", "Enter a valid date"),
        ({"start": "2026-05-01", "end": "2026-01-01"}, "end", "on or after the start date"),
        ({"start": "1990-01-01", "end": "2026-01-01"}, "end", "at most ten years"),
        ({"department": "999999999"}, "department", "Select a valid choice"),
        ({"department": "<script>"}, "department", "Select a valid choice"),
        ({"start": "2026-01-01", "end": "x" * 5000, "format": "csv"}, "end", "valid date"),
    ],
)
def test_bad_filters_show_the_form_with_errors_never_a_server_error(
    tenant, client_for, query, field, message
):
    response = client_for(tenant.admin, tenant.host).get(URL, query)
    # 400 with the form and its errors, as the requests report answers a bad range.
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert f'href="#id_{field}"' in html
    assert message in html
    assert "<script>" not in html


def test_a_department_of_another_agency_is_not_a_choice(tenant, other_tenant, client_for):
    theirs = department(other_tenant, "Their clerk")
    response = client_for(tenant.admin, tenant.host).get(URL, {"department": theirs.pk})
    assert response.status_code == 400
    assert "Their clerk" not in response.content.decode()


# --- Downloads ----------------------------------------------------------------------------------


@pytest.fixture
def spreadsheet_trap(tenant):
    """Departments named like formulas, each with fees in March."""
    names = ["=HYPERLINK(evil)", "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturned"]
    for amount, name in enumerate(names, start=1):
        bill = invoice(
            tenant,
            total=amount * 100,
            sent_at=at("2026-03-10"),
            department=department(tenant, name),
        )
        pay(tenant, bill, amount * 100, at("2026-03-11"))
    return names


def test_the_csv_download_has_every_row_exact_amounts_and_no_formulas(
    tenant, client_for, spreadsheet_trap
):
    response = client_for(tenant.admin, tenant.host).get(
        URL, {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="fees-alpha-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Table", "Department or month", "Invoices sent"]
    assert "Invoiced (USD)" in rows[0]
    labels = [row[1] for row in rows[1:]]
    for name in spreadsheet_trap:
        assert "'" + name in labels
    for row in rows[1:]:
        assert row[1][:1] not in ("=", "+", "-", "@", "\t", "\r")
    total = next(row for row in rows if row[0] == "total")
    invoiced = rows[0].index("Invoiced (USD)")
    assert total[invoiced] == "21.00"  # 1+2+...+6 dollars, exact text from integer cents
    assert [row[1] for row in rows if row[0] == "month"] == ["2026-03"]
    with agency_context(tenant.agency):
        event = AuditEvent.objects.get(agency=tenant.agency, action="billing.fee_report_exported")
    assert event.details == {
        "format": "csv",
        "start": "2026-03-01",
        "end": "2026-03-31",
        "department": "",
    }
    assert event.actor_id == tenant.admin.pk


def test_the_xlsx_download_keeps_integer_cents_and_no_formulas(
    tenant, client_for, spreadsheet_trap
):
    from openpyxl import load_workbook

    police = department(tenant, "+1+1")
    response = client_for(tenant.admin, tenant.host).get(
        URL, {"start": "2026-03-01", "end": "2026-03-31", "format": "xlsx", "department": police.pk}
    )
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "Invoiced (USD cents)" in rows[0]
    invoiced = rows[0].index("Invoiced (USD cents)")
    assert [row[1] for row in rows[1:]] == ["'+1+1", "All departments", "2026-03"]
    assert [row[invoiced] for row in rows[1:]] == [200, 200, 200]
    assert all(isinstance(row[invoiced], int) for row in rows[1:])
    with agency_context(tenant.agency):
        event = AuditEvent.objects.get(agency=tenant.agency, action="billing.fee_report_exported")
    assert (event.details["format"], event.details["department"]) == ("xlsx", "+1+1")


def test_the_page_runs_a_constant_number_of_queries(tenant, client_for, django_assert_num_queries):
    client = client_for(tenant.admin, tenant.host)
    url = URL + "?start=2026-01-01&end=2026-12-31"
    bill = invoice(
        tenant, total=1_000, sent_at=at("2026-02-01"), department=department(tenant, "Clerk")
    )
    pay(tenant, bill, 500, at("2026-02-02"))
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    for n in range(8):
        each = invoice(
            tenant,
            total=1_000 + n,
            sent_at=at(f"2026-{n + 3:02d}-05"),
            department=department(tenant, f"Department {n}"),
        )
        payment = pay(tenant, each, 500, at(f"2026-{n + 3:02d}-06"))
        refund(tenant, payment, 100, at(f"2026-{n + 3:02d}-07"))
    with django_assert_num_queries(len(before.captured_queries)):
        assert client.get(url).status_code == 200


# --- Staff cost and cost recovery on the requests report ----------------------------------------


@pytest.fixture
def time_logged(tenant):
    """The admin has their own rate, the staff member their role's, the publisher the
    schedule's default; each logs time in March on a Clerk request."""
    clerk = department(tenant, "Clerk")
    records_request = file(tenant, clerk)
    with agency_context(tenant.agency):
        FeeSchedule.objects.create(agency=tenant.agency, default_hourly_cents=3_000)
        StaffRate.objects.create(agency=tenant.agency, user=tenant.admin, hourly_cents=6_000)
        StaffRate.objects.create(agency=tenant.agency, role=Role.STAFF, hourly_cents=4_000)
        StaffRate.objects.create(agency=tenant.agency, role=Role.ADMIN, hourly_cents=99_999)
        for user, minutes, day in [
            (tenant.admin, 90, 3),  # 1.5 h at $60: $90
            (tenant.staff, 45, 4),  # 0.75 h at $40: $30
            (tenant.publisher, 20, 31),  # 20 min at $30: $10
            (tenant.publisher, 600, 1 + 31),  # April: not in March
        ]:
            TimeEntry.objects.create(
                agency=tenant.agency,
                request=records_request,
                user=user,
                day=datetime.date(2026, 3, 1) + datetime.timedelta(days=day - 1),
                minutes=minutes,
            )
        bill = Invoice.objects.create(
            agency=tenant.agency,
            request=records_request,
            year=2026,
            sequence=next(_numbers),
            status=InvoiceStatus.SENT,
            currency="usd",
            subtotal_cents=10_000,
            total_cents=10_000,
            sent_at=at("2026-03-05"),
        )
    payment = pay(tenant, bill, 6_000, at("2026-03-06"))
    refund(tenant, payment, 1_000, at("2026-03-07"))
    return clerk


def test_staff_cost_takes_each_persons_rate_and_cost_recovery_the_net_fees(tenant, time_logged):
    with agency_context(tenant.agency):
        summary = cost_report.build_cost_recovery(tenant.agency, *MARCH)
    assert [row.label for row in summary.rows] == ["Clerk"]
    total = summary.total
    assert total.minutes == 90 + 45 + 20
    assert total.staff_cost_cents == 9_000 + 3_000 + 1_000
    assert total.net_collected_cents == 5_000
    assert total.recovery_bps == 3846  # 5,000 / 13,000 = 38.46 %


def test_cost_recovery_has_no_ratio_without_a_cost(tenant):
    with agency_context(tenant.agency):
        summary = cost_report.build_cost_recovery(tenant.agency, *MARCH)
    assert summary.rows == []
    assert summary.total.recovery_bps is None


def test_the_requests_report_shows_staff_cost_and_cost_recovery(tenant, client_for, time_logged):
    page = client_for(tenant.admin, tenant.host).get(
        "/staff/reports/", {"start": "2026-03-01", "end": "2026-03-31"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Staff cost and cost recovery" in html
    assert "2 h 35 min" in html
    assert "$130.00" in html
    assert "$50.00" in html
    assert "38.46 %" in html
    assert f"{URL}?start=2026-03-01&amp;end=2026-03-31" in html


def test_the_requests_report_still_runs_a_constant_number_of_queries(
    tenant, client_for, time_logged, django_assert_num_queries
):
    client = client_for(tenant.admin, tenant.host)
    url = "/staff/reports/?start=2026-01-01&end=2026-12-31"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(5):
        records_request = file(tenant, department(tenant, f"Unit {n}"))
        with agency_context(tenant.agency):
            TimeEntry.objects.create(
                agency=tenant.agency,
                request=records_request,
                user=tenant.staff,
                day=datetime.date(2026, 3, 10),
                minutes=30,
            )
    with django_assert_num_queries(len(before.captured_queries)):
        client.get(url)


def test_the_cost_summary_is_not_shown_to_anyone_who_may_not_see_reports(tenant, rf):
    from django.template import Context, Template

    request = rf.get("/")
    request.agency = tenant.agency
    request.user = tenant.publisher
    with agency_context(tenant.agency):
        html = Template("{% load billing_reports %}{% cost_recovery_summary start end %}").render(
            Context({"request": request, "start": MARCH[0], "end": MARCH[1]})
        )
    assert "Staff cost" not in html


def test_staff_cost_is_rounded_half_up_once():
    assert cost_report.cents_of_minutes(90 * 6_000) == 9_000
    assert cost_report.cents_of_minutes(1) == 0 and cost_report.cents_of_minutes(30) == 1


def test_an_invoice_sent_and_paid_through_the_services_shows_in_this_years_report(
    tenant, agency_defaults, client_for
):
    """The issue's "the agency's report shows the fee": built, sent and paid by the billing
    services, read on the page with its default range (this year so far, today included)."""
    records_request = file(tenant, department(tenant, "Clerk"))
    bill = sent_invoice(tenant, records_request, unit_cents=4_321, quantity=2)
    with agency_context(tenant.agency):
        payments.record_payment(
            invoice=bill, amount_cents=3_000, method=PaymentMethod.CASH, actor=tenant.publisher
        )

    page = client_for(tenant.admin, tenant.host).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "$86.42" in html  # invoiced
    assert "$30.00" in html  # collected
    assert "$56.42" in html  # outstanding today
