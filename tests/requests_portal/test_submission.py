"""Filing and numbering: yearly numbers per agency, concurrent submissions, and staff intake
of requests received by phone, mail or in person (day 0, refused dates).
"""

from __future__ import annotations

import datetime
import threading
import uuid
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.local_time import agency_today
from accounts.models import Agency
from accounts.tenancy import agency_context
from requests_portal import deadlines
from requests_portal.models import (
    RecordsRequest,
)
from requests_portal.services import agency_settings, submission
from tests.db_helpers import run_in_committed_thread
from tests.requests_portal.helpers import (
    calendar_of,
    file_request,
    form_data,
    requests_of,
    staff_url,
)

# Numbers are per year and day 0 is a date: every test here depends on the date (clock).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clock,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


# --- Numbers -------------------------------------------------------------------------------------


def test_first_two_requests_of_the_year_are_numbered_1_and_2_in_each_agency(
    tenant, other_tenant, client_for
):
    for each in (tenant, other_tenant):
        for n in range(2):
            response = client_for(None, each.host).post(
                reverse("request_new"), form_data(email=f"r{n}@{each.agency.slug}.example")
            )
            assert response.status_code == 302

    for each in (tenant, other_tenant):
        first, second = requests_of(each)
        year = first.day_zero.year
        this_year = agency_today(each.agency).year  # the agency's year, not the server's
        assert year in (this_year, this_year + 1)  # after the cut-off on New Year's Eve
        assert (first.number, second.number) == (f"{year % 100:02d}-1", f"{year % 100:02d}-2")


def test_concurrent_submissions_get_distinct_consecutive_numbers():
    # Rows committed from other threads outlive the test: an agency of its own, inactive.
    slug = f"numbers-{uuid.uuid4().hex[:10]}"

    def create_agency():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            agency_settings.agency_setup_defaults(agency=agency, state="CA")
        return agency

    agency = run_in_committed_thread(create_agency)
    submitters = 8
    barrier = threading.Barrier(submitters)
    outcomes: list = []

    def submit(n: int):
        barrier.wait(timeout=60)
        with agency_context(agency):
            filed = submission.request_submit(
                agency=agency,
                actor=None,
                title=f"Concurrent request {n}",
                description="Filed at the same moment as seven others.",
                contact=submission.Contact(name=f"Resident {n}"),
                channel="web",
            )
        return filed.year, filed.sequence

    def worker(n: int):
        try:
            outcomes.append(run_in_committed_thread(lambda: submit(n)))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            outcomes.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    assert len({year for year, _ in outcomes}) == 1
    assert sorted(sequence for _, sequence in outcomes) == list(range(1, submitters + 1))
    with agency_context(agency):
        stored = sorted(
            RecordsRequest.objects.filter(agency=agency).values_list("sequence", flat=True)
        )
    assert stored == list(range(1, submitters + 1))


# --- Staff intake --------------------------------------------------------------------------


def _intake_data(**overrides) -> dict:
    data = {
        "title": "Building permits, 12 Oak Ave",
        "description": "Asked by phone: all permits since 2010.",
        "delivery": "electronic",
        "name": "Carl Caller",
        "email": "",
        "phone": "555-0100",
        "address": "",
        "channel": "phone",
    }
    data.update(overrides)
    return data


def test_staff_log_a_phone_request_with_a_past_received_date_as_day_zero(tenant, client_for):
    calendar = calendar_of(tenant)
    today = calendar.local_date(timezone.now())
    received_on = today - datetime.timedelta(days=10)

    response = client_for(tenant.staff, tenant.host).post(
        reverse("staff:request_new"), _intake_data(received_on=received_on.isoformat())
    )

    [filed] = requests_of(tenant)
    assert response.status_code == 302
    assert response["Location"] == staff_url("detail", filed)
    assert filed.channel == "phone"
    assert filed.day_zero == received_on
    assert calendar.local_date(filed.received_at) == received_on
    assert filed.due_date == deadlines.add_counting_days(
        received_on, 10, deadlines.CountingMethod.BUSINESS, calendar
    )
    assert filed.requester_phone == "555-0100"


def test_staff_log_with_a_future_received_date_is_a_field_error(tenant, client_for):
    tomorrow = calendar_of(tenant).local_date(timezone.now()) + datetime.timedelta(days=2)

    response = client_for(tenant.staff, tenant.host).post(
        reverse("staff:request_new"), _intake_data(received_on=tomorrow.isoformat())
    )

    assert response.status_code == 400
    assert response.context["form"].errors["received_on"] == [
        "The date received cannot be in the future."
    ]
    assert requests_of(tenant) == []


def test_staff_log_refuses_the_agency_local_tomorrow_in_the_evening(tenant, client_for):
    # "Future" is judged by the agency's calendar, not UTC's: 02:00 UTC is 20:00 or 21:00 the
    # evening before in Chicago (the agency's time zone), when UTC's today is its tomorrow.
    evening = timezone.now().replace(hour=2, minute=0, second=0, microsecond=0)
    calendar = calendar_of(tenant)
    agency_tomorrow = calendar.local_date(evening) + datetime.timedelta(days=1)
    assert agency_tomorrow == evening.date()

    with mock.patch("django.utils.timezone.now", return_value=evening):
        response = client_for(tenant.staff, tenant.host).post(
            reverse("staff:request_new"), _intake_data(received_on=agency_tomorrow.isoformat())
        )

    assert response.status_code == 400
    assert requests_of(tenant) == []


def test_staff_log_with_a_received_year_outside_this_century_never_reuses_a_number(
    tenant, client_for
):
    existing = file_request(tenant, title="This year's first request")
    client = client_for(tenant.staff, tenant.host)

    # A date field's year typed as "26" arrives as 0026.
    response = client.post(
        reverse("staff:request_new"),
        _intake_data(title="Letter with a mistyped year", received_on="0026-03-02"),
    )

    # Refused as a field error (the form allows 2000-2099 only), and nothing is filed, so no
    # number is taken or reused.
    assert response.status_code == 400
    assert response.context["form"].errors["received_on"]
    assert requests_of(tenant) == [existing]
