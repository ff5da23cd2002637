"""The agency's calendar (accounts.local_time): its "today" is not the server's."""

import datetime
from unittest import mock

from accounts.local_time import agency_today, agency_zone
from accounts.models import Agency

# 05:30 UTC on January 1st: still New Year's Eve in Chicago, already the morning in Auckland.
NEW_YEARS_EVE_IN_CHICAGO = datetime.datetime(2027, 1, 1, 5, 30, tzinfo=datetime.UTC)


def test_today_is_the_date_on_the_agencys_calendar():
    chicago = Agency(slug="chicago", name="Chicago", time_zone="America/Chicago")
    auckland = Agency(slug="auckland", name="Auckland", time_zone="Pacific/Auckland")
    with mock.patch("django.utils.timezone.now", return_value=NEW_YEARS_EVE_IN_CHICAGO):
        assert agency_today(chicago) == datetime.date(2026, 12, 31)
        assert agency_today(auckland) == datetime.date(2027, 1, 1)
    assert agency_zone(chicago).key == "America/Chicago"
