"""The agency's calendar (accounts.local_time): its "today" is not the server's."""

import datetime
from unittest import mock
from zoneinfo import ZoneInfo

from django.template import Context, Template

from accounts import local_time
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


# --- Showing dates and times: one helper, the agency's clock, the zone named ----------------

CHICAGO = ZoneInfo("America/Chicago")
# 15:14 UTC on a December Monday: 9:14 in the morning in Chicago (CST).
WINTER_MORNING = datetime.datetime(2026, 12, 7, 15, 14, 3, tzinfo=datetime.UTC)


def test_a_moment_is_shown_on_the_agencys_clock_naming_its_zone():
    assert local_time.format_datetime(WINTER_MORNING, zone=CHICAGO) == "Dec 7, 2026, 9:14 AM CST"
    summer = datetime.datetime(2026, 7, 1, 15, 14, tzinfo=datetime.UTC)
    assert local_time.format_datetime(summer, zone=CHICAGO) == "Jul 1, 2026, 10:14 AM CDT"
    assert (
        local_time.format_datetime(WINTER_MORNING, "precise", zone=CHICAGO)
        == "2026-12-07 09:14:03 CST"
    )


def test_a_zone_without_an_abbreviation_is_named_by_its_offset():
    shown = local_time.format_datetime(WINTER_MORNING, zone=ZoneInfo("America/Sao_Paulo"))
    assert shown == "Dec 7, 2026, 12:14 PM UTC-03:00"


def test_a_moment_shown_as_a_day_is_the_agencys_day_not_utcs():
    # 04:30 UTC on Saturday is still Friday evening in Chicago.
    late = datetime.datetime(2026, 12, 12, 4, 30, tzinfo=datetime.UTC)
    assert local_time.format_date(late, zone=CHICAGO) == "Dec 11, 2026"
    assert local_time.local_date(late, zone=CHICAGO) == datetime.date(2026, 12, 11)
    assert local_time.format_date(datetime.date(2026, 12, 21), "long_date") == (
        "Monday, December 21, 2026"
    )


def test_machines_get_iso_8601_with_the_offset():
    assert local_time.iso_datetime(WINTER_MORNING, zone=CHICAGO) == "2026-12-07T09:14:03-06:00"


def test_the_template_filters_use_the_active_zone_and_name_it():
    chicago = Agency(slug="chicago", name="Chicago", time_zone="America/Chicago")
    page = Template(
        "{{ when|agency_datetime }}|{{ when|agency_date }}|{{ day|agency_date:'long_date' }}|"
        "{{ cutoff|agency_wall_time }}|{{ missing|agency_datetime|default:'never' }}|"
        "{% agency_zone_name %}"
    )
    context = Context(
        {"when": WINTER_MORNING, "day": datetime.date(2026, 12, 8), "cutoff": datetime.time(17)}
    )
    with (
        mock.patch("django.utils.timezone.now", return_value=WINTER_MORNING),
        local_time.showing_times_of(chicago),
    ):
        shown = page.render(context)
    assert shown == (
        "Dec 7, 2026, 9:14 AM CST|Dec 7, 2026|Tuesday, December 8, 2026|5:00 PM CST|never|"
        "America/Chicago"
    )
    # Outside any agency's pages the zone is UTC, and still named.
    assert Template("{{ when|agency_datetime }}").render(context) == "Dec 7, 2026, 3:14 PM UTC"
