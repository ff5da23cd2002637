"""Dates agree on every page: the receipt is shown as the moment it happened, on the agency's
clock and naming its zone; day 0 is shown as the day the clock is counted from (the next day
after the evening cut-off); the timeline, the staff page and the audit log agree with it; the
report's default range is the year so far with today in it. And the confirmation a resident
sees after filing says what happens next."""

from __future__ import annotations

import csv
import datetime
import io
import re
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.local_time import format_date, format_datetime
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal.services import lifecycle
from tests.requests_portal.helpers import (
    body_of,
    file_request,
    form_data,
    requests_of,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]

CHICAGO = ZoneInfo("America/Chicago")
# A Monday evening in Chicago after the 5 PM cut-off, already Tuesday in UTC.
MONDAY_EVENING = datetime.datetime(2026, 12, 7, 18, 14, tzinfo=CHICAGO)
TUESDAY_MORNING = datetime.datetime(2026, 12, 8, 9, 0, tzinfo=CHICAGO)


def _at(moment: datetime.datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def _file_as_guest(tenant, client_for, moment):
    with _at(moment):
        client = client_for(None, tenant.host)
        response = client.post(reverse("request_new"), form_data())
        assert response.status_code == 302
        page = client.get(response["Location"])
    [filed] = requests_of(tenant)
    return filed, response["Location"], _squeeze(body_of(page))


def test_the_confirmation_shows_the_real_receipt_time_and_day_0_as_counted_from(tenant, client_for):
    filed, _, page = _file_as_guest(tenant, client_for, MONDAY_EVENING)

    assert filed.day_zero == datetime.date(2026, 12, 8)
    assert "We received it on Dec 7, 2026, 6:14 PM CST." in page
    assert "<dt>Received</dt><dd>Dec 7, 2026, 6:14 PM CST</dd>" in page
    assert "<dt>Clock counted from</dt><dd>Tuesday, December 8, 2026" in page
    assert "requests received after 5:00 PM CST are counted from the next day" in page
    # The timeline says the same moment, not a day of its own.
    timeline = page[page.index('<ol class="timeline">') :]
    assert "Dec 7, 2026, 6:14 PM CST</span> Request received" in timeline
    # Nothing calls December 8 the day it was received.
    assert "Received Dec 8" not in page and "Received December 8" not in page


def test_a_request_before_the_cut_off_is_counted_from_its_own_day_without_a_note(
    tenant, client_for
):
    filed, _, page = _file_as_guest(tenant, client_for, TUESDAY_MORNING)

    assert filed.day_zero == datetime.date(2026, 12, 8)
    assert "<dt>Received</dt><dd>Dec 8, 2026, 9:00 AM CST</dd>" in page
    assert "<dt>Clock counted from</dt><dd>Tuesday, December 8, 2026</dd>" in page
    assert "counted from the next day" not in page


def test_the_confirmation_says_what_happens_next_and_gives_a_guest_the_tracking_link(
    tenant, client_for
):
    filed, location, page = _file_as_guest(tenant, client_for, MONDAY_EVENING)

    assert "What happens next" in page
    acknowledge_by = format_date(filed.acknowledge_due_date, "long_date")
    due_by = format_date(filed.due_date, "long_date")
    assert f"acknowledge your request by <strong>{acknowledge_by}</strong>" in page
    assert f"respond by <strong>{due_by}</strong>" in page
    assert "Only business days count" in page
    assert "pause the clock" in page
    # The link, as selectable text that needs no script (the copy button is an extra).
    field = re.search(r'<input id="tracking-link" type="text" readonly value="([^"]+)"', page)
    assert field is not None
    assert field.group(1) == f"http://{tenant.host}{location}"
    assert "?t=" in field.group(1)
    assert 'data-copy="tracking-link" hidden' in page
    assert f'href="{location}">Track this request</a>' in page.replace("&amp;", "&")
    assert f'href="{reverse("request_new")}">File another request</a>' in page
    assert f'href="{reverse("archive")}">Browse the public archive</a>' in page


def test_a_signed_in_resident_is_not_asked_to_keep_a_link(tenant, client_for):
    with _at(MONDAY_EVENING):
        client = client_for(tenant.requester, tenant.host)
        response = client.post(reverse("request_new"), form_data(email=""))
        page = _squeeze(body_of(client.get(response["Location"])))
    assert "What happens next" in page
    assert 'id="tracking-link"' not in page
    assert "See all your requests" in page


def test_the_request_page_after_the_confirmation_keeps_the_same_dates(tenant, client_for):
    _, location, _ = _file_as_guest(tenant, client_for, MONDAY_EVENING)
    with _at(TUESDAY_MORNING):
        page = _squeeze(body_of(client_for(None, tenant.host).get(location)))
    assert "What happens next" not in page
    assert "<dt>Received</dt><dd>Dec 7, 2026, 6:14 PM CST</dd>" in page
    assert "Dec 7, 2026, 6:14 PM CST</span> Request received" in page


def test_staff_see_the_receipt_before_the_acknowledgement(tenant, client_for):
    with _at(MONDAY_EVENING):
        filed = file_request(tenant)
    with _at(TUESDAY_MORNING), agency_context(tenant.agency):
        lifecycle.request_acknowledge(records_request=filed, actor=tenant.admin)
    with _at(TUESDAY_MORNING):
        page = _squeeze(
            body_of(client_for(tenant.admin, tenant.host).get(staff_url("detail", filed)))
        )
    assert "<dt>Received</dt><dd>Dec 7, 2026, 6:14 PM CST (Web form)</dd>" in page
    assert "<dt>Clock counted from</dt><dd>Tue, Dec 8, 2026" in page
    assert "received after the 5:00 PM CST cut-off" in page
    assert "Acknowledged Dec 8, 2026, 9:00 AM CST" in page


def test_the_audit_log_names_the_agencys_zone_and_shows_its_clock(tenant, client_for):
    filed = file_request(tenant)
    with agency_context(tenant.agency):
        event = AuditEvent.objects.get(
            agency=tenant.agency, action="request.submitted", target_id=str(filed.pk)
        )
    page = _squeeze(body_of(client_for(tenant.admin, tenant.host).get(reverse("staff:audit_log"))))
    assert "Time (America/Chicago)" in page
    assert "Time (UTC)" not in page and "Times are UTC" not in page
    shown = format_datetime(event.created_at, "precise", zone=CHICAGO)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[SD]T", shown)
    assert f">{shown}</time>" in page


def test_the_audit_export_gives_iso_8601_times_with_their_offset(tenant, client_for):
    file_request(tenant)
    response = client_for(tenant.admin, tenant.host).get(reverse("staff:audit_export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows
    for row in rows:
        moment = datetime.datetime.fromisoformat(row["time_utc"])
        assert moment.utcoffset() == datetime.timedelta(0)


# --- The report's default range: the year so far, today included -----------------------------


def _report_csv_total(client) -> int:
    response = client.get(reverse("staff:report") + "?format=csv")
    assert response.status_code == 200
    [total] = [
        row
        for row in csv.reader(io.StringIO(response.content.decode()))
        if row[0] == "All departments"
    ]
    return int(total[1])


@pytest.mark.parametrize(
    "utc_instant",
    [
        # Friday 22:30 in Chicago, already Saturday in UTC.
        datetime.datetime(2026, 12, 12, 4, 30, tzinfo=datetime.UTC),
        # Friday 23:30 in Chicago, half an hour before the agency's midnight.
        datetime.datetime(2026, 12, 12, 5, 30, tzinfo=datetime.UTC),
        # New Year's Eve 23:30 in Chicago: counted from next year, received this year.
        datetime.datetime(2027, 1, 1, 5, 30, tzinfo=datetime.UTC),
    ],
    ids=["04:30-utc", "23:30-chicago", "new-years-eve"],
)
def test_the_default_report_includes_what_came_in_today(tenant, client_for, utc_instant):
    local = utc_instant.astimezone(CHICAGO)
    with _at(utc_instant):
        filed = file_request(tenant)
        client = client_for(tenant.admin, tenant.host)
        page = _squeeze(body_of(client.get(reverse("staff:report"))))
        total = _report_csv_total(client)
    # After the cut-off: counted from tomorrow, but received today.
    assert filed.day_zero == local.date() + datetime.timedelta(days=1)
    assert total == 1
    assert f"Requests received Jan 1, {local.year} to {format_date(local.date())} (today)" in page
    assert f'value="{local.date().isoformat()}"' in page
    assert "All departments</th><td>1</td>" in page


def test_a_request_received_tomorrow_is_not_in_todays_report(tenant, client_for):
    evening = datetime.datetime(2026, 12, 11, 23, 30, tzinfo=CHICAGO)
    with _at(evening + datetime.timedelta(hours=1)):
        file_request(tenant)  # 00:30 Saturday: tomorrow, seen from Friday evening
    with _at(evening):
        assert _report_csv_total(client_for(tenant.admin, tenant.host)) == 0
