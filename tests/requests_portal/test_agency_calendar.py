"""The agency's calendar, not the server's, decides "today" and "this year": from 6 PM in
Chicago (7 PM in summer) a server on UTC is already on tomorrow, and on New Year's Eve in
next year. scripts/test-clocks runs the `clock` tests at those hours."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse

from accounts.local_time import agency_today
from accounts.tenancy import agency_context
from requests_portal.models import Holiday, RecordsRequest
from requests_portal.services import agency_settings
from tests.requests_portal.helpers import file_request

pytestmark = pytest.mark.django_db

# 2026-12-31 23:30 in Chicago (the test agencies' zone).
NEW_YEARS_EVE_IN_CHICAGO = datetime.datetime(2027, 1, 1, 5, 30, tzinfo=datetime.UTC)


def test_an_agency_set_up_on_its_new_years_eve_gets_the_holidays_of_its_own_year(tenant):
    with (
        mock.patch("django.utils.timezone.now", return_value=NEW_YEARS_EVE_IN_CHICAGO),
        agency_context(tenant.agency),
    ):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        days = Holiday.objects.filter(agency=tenant.agency).values_list("date", flat=True)
        years = {day.year for day in days}
    assert years == {2026, 2027}


@pytest.mark.clock
@pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits")
def test_a_request_due_today_is_overdue_only_once_the_agencys_day_is_over(tenant, client_for):
    filed = file_request(tenant)
    today = agency_today(tenant.agency)
    staff = client_for(tenant.admin, tenant.host)
    overdue_list = reverse("staff:request_queue") + "?status=overdue"

    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk=filed.pk).update(due_date=today)
    assert filed.number not in staff.get(overdue_list).content.decode()
    assert "flag-overdue" not in staff.get(reverse("staff:request_queue")).content.decode()

    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk=filed.pk).update(
            due_date=today - datetime.timedelta(days=1)
        )
    assert filed.number in staff.get(overdue_list).content.decode()
    assert "flag-overdue" in staff.get(reverse("staff:request_queue")).content.decode()
