"""Deadline engine: counting methods, cut-off, DST, extensions, pauses and guards.

Pure tests (no database). Expected dates are worked out by hand against the CA holiday list
of the ``holidays`` library (checked in the first tests, so a library change shows up there
rather than as a puzzling date mismatch further down).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from requests_portal import deadlines
from requests_portal.deadlines import (
    AgencyCalendar,
    CountingMethod,
    DeadlineRule,
    add_counting_days,
    counting_days_between,
    day_zero,
    default_holidays,
    due_at,
    due_date,
    extend,
    is_due_soon,
    is_overdue,
    remaining_days,
    resume,
)

CAL = CountingMethod.CALENDAR
BUS = CountingMethod.BUSINESS
CNB = CountingMethod.CALENDAR_NEXT_BUSINESS
METHODS = [CAL, BUS, CNB]

LA_ZONE = ZoneInfo("America/Los_Angeles")
NY_ZONE = ZoneInfo("America/New_York")
CA_HOLIDAYS = default_holidays([2025, 2026, 2027], state="CA")
NY_HOLIDAYS = default_holidays([2025, 2026, 2027], state="NY")
LA = AgencyCalendar("America/Los_Angeles", frozenset(CA_HOLIDAYS))
NY = AgencyCalendar("America/New_York", frozenset(NY_HOLIDAYS))

DAYS_OF_2026 = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]


def la(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LA_ZONE)


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NY_ZONE)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def naive_business_days(start: date, end: date, calendar: AgencyCalendar) -> int:
    """Independent oracle: walk the days one by one."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += day.weekday() < 5 and day not in calendar.holidays
    return count


# --- the holiday data the expectations below rely on ----------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        "2025-11-27",  # Thanksgiving
        "2025-11-28",  # CA: day after Thanksgiving
        "2026-03-31",  # CA: Cesar Chavez Day (a Tuesday)
        "2026-07-03",  # July 4 is a Saturday: observed Friday
        "2026-07-04",
        "2026-11-11",  # Veterans Day (a Wednesday)
        "2026-11-26",
        "2026-11-27",
        "2026-12-25",
        "2027-01-01",
        "2027-12-24",  # Christmas 2027 is a Saturday: observed Friday
        "2027-12-31",  # New Year 2028 is a Saturday: observed Friday in 2027
    ],
)
def test_ca_default_holidays_include_federal_state_and_observed_days(day):
    assert d(day) in CA_HOLIDAYS


@pytest.mark.parametrize(
    "day",
    [
        "2025-12-26",  # CA stays open the day after Christmas
        "2026-12-24",  # Christmas Eve is not a holiday
        "2026-10-12",  # Columbus Day: federal, but not a CA state holiday in the library
    ],
)
def test_ca_default_holidays_exclude_days_ca_keeps_open(day):
    assert d(day) not in CA_HOLIDAYS


def test_federal_default_holidays_have_columbus_day_but_not_ca_days():
    federal = default_holidays([2026])
    assert federal[d("2026-10-12")] == "Columbus Day"
    assert d("2026-11-27") not in federal
    assert d("2026-03-31") not in federal


def test_default_holidays_are_sorted_named_and_limited_to_requested_years():
    assert list(CA_HOLIDAYS) == sorted(CA_HOLIDAYS)
    assert CA_HOLIDAYS[d("2026-11-26")] == "Thanksgiving Day"
    assert {day.year for day in CA_HOLIDAYS} == {2025, 2026, 2027}


def test_default_holidays_accept_lowercase_state_and_any_iterable_of_years():
    assert default_holidays(range(2026, 2027), state="ca") == default_holidays([2026], state="CA")


def test_default_holidays_reject_unknown_state():
    with pytest.raises(ValueError, match="unknown US state"):
        default_holidays([2026], state="XX")


# --- business days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-03-13", True),  # Friday
        ("2026-03-14", False),  # Saturday
        ("2026-03-15", False),  # Sunday
        ("2026-03-31", False),  # Cesar Chavez Day
        ("2026-07-03", False),  # observed Independence Day
        ("2026-12-24", True),
    ],
)
def test_business_day_is_a_weekday_that_is_not_a_holiday(day, expected):
    assert LA.is_business_day(d(day)) is expected


# --- the three methods across weekends, holidays and year end ----------------------------------


@pytest.mark.parametrize(
    ("received", "days", "method", "expected"),
    [
        # Across a weekend: received Friday 2026-03-13.
        ("2026-03-13", 1, CAL, "2026-03-14"),
        ("2026-03-13", 3, CAL, "2026-03-16"),
        ("2026-03-13", 1, BUS, "2026-03-16"),
        ("2026-03-13", 5, BUS, "2026-03-20"),
        ("2026-03-13", 10, BUS, "2026-03-27"),
        ("2026-03-13", 1, CNB, "2026-03-16"),
        ("2026-03-13", 2, CNB, "2026-03-16"),
        ("2026-03-13", 3, CNB, "2026-03-16"),
        ("2026-03-13", 4, CNB, "2026-03-17"),
        # Across Cesar Chavez Day (Tuesday 2026-03-31).
        ("2026-03-20", 10, BUS, "2026-04-06"),
        ("2026-03-20", 11, CNB, "2026-04-01"),
        ("2026-03-20", 11, CAL, "2026-03-31"),
        # Across Thanksgiving and the day after: received Wednesday 2026-11-25.
        ("2026-11-25", 1, CAL, "2026-11-26"),
        ("2026-11-25", 10, CAL, "2026-12-05"),
        ("2026-11-25", 1, BUS, "2026-11-30"),
        ("2026-11-25", 10, BUS, "2026-12-11"),
        ("2026-11-25", 1, CNB, "2026-11-30"),
        ("2026-11-25", 2, CNB, "2026-11-30"),
        ("2026-11-25", 10, CNB, "2026-12-07"),
        # Across Veterans Day (Wednesday 2026-11-11).
        ("2026-11-10", 1, CAL, "2026-11-11"),
        ("2026-11-10", 1, BUS, "2026-11-12"),
        ("2026-11-10", 1, CNB, "2026-11-12"),
        # July 4 2026 is a Saturday, observed Friday July 3.
        ("2026-07-02", 1, CAL, "2026-07-03"),
        ("2026-07-02", 1, BUS, "2026-07-06"),
        ("2026-07-02", 3, BUS, "2026-07-08"),
        ("2026-07-02", 1, CNB, "2026-07-06"),
        ("2026-07-02", 2, CNB, "2026-07-06"),
        # Year end: Christmas Friday 2026-12-25, New Year Friday 2027-01-01.
        ("2026-12-24", 1, BUS, "2026-12-28"),
        ("2026-12-24", 5, BUS, "2027-01-04"),
        ("2026-12-24", 10, BUS, "2027-01-11"),
        ("2026-12-24", 10, CAL, "2027-01-03"),
        ("2026-12-24", 1, CNB, "2026-12-28"),
        ("2026-12-24", 8, CNB, "2027-01-04"),
        ("2026-12-24", 10, CNB, "2027-01-04"),
        # Year end 2025: CA is open on Friday 2025-12-26.
        ("2025-12-24", 1, BUS, "2025-12-26"),
        ("2025-12-24", 1, CNB, "2025-12-26"),
        # Year end 2027: observed Christmas (12-24) and observed New Year 2028 (12-31).
        ("2027-12-23", 1, BUS, "2027-12-27"),
        ("2027-12-23", 5, BUS, "2028-01-03"),
        ("2027-12-23", 8, CNB, "2028-01-03"),
    ],
)
def test_due_date_counts_each_method_across_weekends_holidays_and_year_end(
    received, days, method, expected
):
    received_at = datetime.combine(d(received), time(10, 0), tzinfo=LA_ZONE)
    rule = DeadlineRule(days, method)
    assert due_date(received_at, rule, LA, web_submission=True) == d(expected)
    assert add_counting_days(d(received), days, method, LA) == d(expected)


@pytest.mark.parametrize(
    ("start", "method", "expected"),
    [
        ("2026-03-14", CAL, "2026-03-14"),  # Saturday stays Saturday
        ("2026-03-14", BUS, "2026-03-16"),
        ("2026-03-14", CNB, "2026-03-16"),
        ("2026-03-16", BUS, "2026-03-16"),  # already a business day
        ("2026-03-16", CNB, "2026-03-16"),
        ("2026-11-26", CAL, "2026-11-26"),  # Thanksgiving
        ("2026-11-26", BUS, "2026-11-30"),
        ("2026-11-26", CNB, "2026-11-30"),
        ("2026-03-31", BUS, "2026-04-01"),
    ],
)
def test_zero_days_is_due_on_day_zero_rolled_to_a_business_day_for_business_methods(
    start, method, expected
):
    assert add_counting_days(d(start), 0, method, LA) == d(expected)


def test_zero_day_rule_on_a_friday_evening_web_submission_is_due_monday():
    received_at = la(2026, 3, 13, 18, 0)
    assert due_date(received_at, DeadlineRule(0, BUS), LA, web_submission=True) == d("2026-03-16")
    assert due_date(received_at, DeadlineRule(0, CAL), LA, web_submission=True) == d("2026-03-14")
    assert due_date(received_at, DeadlineRule(0, CAL), LA, web_submission=False) == d("2026-03-13")


def test_acknowledgement_and_response_deadlines_run_through_the_same_engine():
    received_at = la(2026, 11, 25, 9, 0)
    acknowledgement = DeadlineRule(2, BUS)
    response = DeadlineRule(10, CNB)
    assert due_date(received_at, acknowledgement, LA, web_submission=True) == d("2026-12-01")
    assert due_date(received_at, response, LA, web_submission=True) == d("2026-12-07")


# --- day 0 and the cut-off ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "web", "expected"),
    [
        (la(2026, 3, 10, 16, 59, 59), True, "2026-03-10"),
        (la(2026, 3, 10, 16, 59, 59, 999999), True, "2026-03-10"),
        (la(2026, 3, 10, 17, 0, 0), True, "2026-03-11"),
        (la(2026, 3, 10, 18, 0), True, "2026-03-11"),
        (la(2026, 3, 10, 18, 0), False, "2026-03-10"),  # staff-logged: no cut-off
        (la(2026, 3, 10, 0, 0), True, "2026-03-10"),
        # 23:30 local is already 06:30 the next day in UTC: the local date decides.
        (utc(2026, 3, 11, 6, 30), True, "2026-03-11"),
        (utc(2026, 3, 11, 6, 30), False, "2026-03-10"),
        # 00:30 local, just after midnight: counted from that local date.
        (utc(2026, 3, 10, 7, 30), True, "2026-03-10"),
        # Friday after the cut-off becomes Saturday.
        (la(2026, 3, 13, 17, 0), True, "2026-03-14"),
        # Year end: New Year's Eve after the cut-off is day 0 on New Year's Day.
        (la(2026, 12, 31, 17, 30), True, "2027-01-01"),
    ],
)
def test_day_zero_is_the_local_date_moved_forward_after_the_web_cutoff(received_at, web, expected):
    assert day_zero(received_at, LA, web_submission=web) == d(expected)


def test_cutoff_changes_the_due_date_by_one_second():
    rule = DeadlineRule(1, BUS)
    before = due_date(la(2026, 3, 10, 16, 59, 59), rule, LA, web_submission=True)
    at = due_date(la(2026, 3, 10, 17, 0, 0), rule, LA, web_submission=True)
    assert (before, at) == (d("2026-03-11"), d("2026-03-12"))


def test_staff_logged_request_after_hours_keeps_its_date():
    rule = DeadlineRule(1, BUS)
    assert due_date(la(2026, 3, 10, 18, 0), rule, LA, web_submission=False) == d("2026-03-11")


def test_agency_can_set_its_own_cutoff():
    early = AgencyCalendar("America/Los_Angeles", LA.holidays, cutoff=time(16, 30))
    assert day_zero(la(2026, 3, 10, 16, 29), early, web_submission=True) == d("2026-03-10")
    assert day_zero(la(2026, 3, 10, 16, 45), early, web_submission=True) == d("2026-03-11")


# --- DST ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "received_at", "rule", "due_day", "offset_hours", "due_utc"),
    [
        # Spring forward on Sunday 2026-03-08: received Saturday in standard time.
        (LA, la(2026, 3, 7, 10), DeadlineRule(1, CAL), "2026-03-08", -7, utc(2026, 3, 9, 6)),
        (LA, la(2026, 3, 7, 10), DeadlineRule(0, CAL), "2026-03-07", -8, utc(2026, 3, 8, 7)),
        (LA, la(2026, 3, 6, 10), DeadlineRule(1, BUS), "2026-03-09", -7, utc(2026, 3, 10, 6)),
        (NY, ny(2026, 3, 7, 10), DeadlineRule(1, CAL), "2026-03-08", -4, utc(2026, 3, 9, 3)),
        # Fall back on Sunday 2026-11-01: received Saturday in daylight time.
        (NY, ny(2026, 10, 31, 10), DeadlineRule(1, CAL), "2026-11-01", -5, utc(2026, 11, 2, 4)),
        (NY, ny(2026, 10, 31, 10), DeadlineRule(0, CAL), "2026-10-31", -4, utc(2026, 11, 1, 3)),
        # ...and NY closes for Election Day, Tuesday 2026-11-03.
        (NY, ny(2026, 10, 31, 10), DeadlineRule(2, BUS), "2026-11-04", -5, utc(2026, 11, 5, 4)),
        (LA, la(2026, 10, 31, 10), DeadlineRule(1, CNB), "2026-11-02", -8, utc(2026, 11, 3, 7)),
    ],
)
def test_due_at_is_the_end_of_the_local_due_day_with_that_days_offset(
    calendar, received_at, rule, due_day, offset_hours, due_utc
):
    result = due_at(received_at, rule, calendar, web_submission=False)
    assert result.date() == d(due_day)
    assert result.time() == time(23, 59, 59, 999999)
    assert result.utcoffset() == timedelta(hours=offset_hours)
    assert result.tzinfo == calendar.zone
    assert result.astimezone(UTC) == due_utc.replace(minute=59, second=59, microsecond=999999)


@pytest.mark.parametrize(
    ("calendar", "received_at", "expected"),
    [
        # Spring-forward day: 17:00 EDT is 21:00 UTC (not 22:00 as in winter).
        (NY, utc(2026, 3, 8, 20, 59, 59), "2026-03-08"),
        (NY, utc(2026, 3, 8, 21, 0, 0), "2026-03-09"),
        (NY, utc(2026, 3, 8, 21, 30), "2026-03-09"),  # 17:30 EDT (16:30 on a stale offset)
        (LA, utc(2026, 3, 8, 23, 59, 59), "2026-03-08"),  # 16:59:59 PDT
        (LA, utc(2026, 3, 9, 0, 0, 0), "2026-03-09"),  # 17:00 PDT
        # Fall-back day: 17:00 EST is 22:00 UTC (not 21:00 as in summer).
        (NY, utc(2026, 11, 1, 21, 30), "2026-11-01"),  # 16:30 EST (17:30 on a stale offset)
        (NY, utc(2026, 11, 1, 21, 59, 59), "2026-11-01"),
        (NY, utc(2026, 11, 1, 22, 0, 0), "2026-11-02"),
        # Both passes through the repeated 01:30 are the same local day.
        (NY, utc(2026, 11, 1, 5, 30), "2026-11-01"),
        (NY, utc(2026, 11, 1, 6, 30), "2026-11-01"),
    ],
)
def test_cutoff_applies_in_local_time_on_dst_change_days(calendar, received_at, expected):
    assert day_zero(received_at, calendar, web_submission=True) == d(expected)


@pytest.mark.parametrize(
    ("zone", "day", "expected_local", "expected_utc"),
    [
        # Clocks fall back at midnight: the day ends at the second 23:59:59.999999.
        (
            "America/Santiago",
            "2026-04-04",
            datetime(2026, 4, 4, 23, 59, 59, 999999),
            utc(2026, 4, 5, 3, 59, 59, 999999),
        ),
        # Clocks jump from 23:00 to 00:00: the day ends at 22:59:59.999999.
        (
            "America/Nuuk",
            "2026-03-28",
            datetime(2026, 3, 28, 22, 59, 59, 999999),
            utc(2026, 3, 29, 0, 59, 59, 999999),
        ),
    ],
)
def test_end_of_day_is_the_last_instant_of_the_local_date_in_unusual_zones(
    zone, day, expected_local, expected_utc
):
    result = AgencyCalendar(zone).end_of_day(d(day))
    assert result.replace(tzinfo=None) == expected_local
    assert result.astimezone(UTC) == expected_utc
    one_later = (result.astimezone(UTC) + timedelta(microseconds=1)).astimezone(ZoneInfo(zone))
    assert one_later.date() == d(day) + timedelta(days=1)


def test_end_of_a_day_skipped_by_the_zone_is_rejected():
    with pytest.raises(ValueError, match="does not exist"):
        AgencyCalendar("Pacific/Apia").end_of_day(d("2011-12-30"))


# --- extensions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "extra", "method", "expected"),
    [
        ("2026-03-20", 10, CAL, "2026-03-30"),
        ("2026-03-20", 8, CAL, "2026-03-28"),  # calendar never rolls
        ("2026-03-20", 10, BUS, "2026-04-06"),  # skips Cesar Chavez Day
        ("2026-03-20", 8, CNB, "2026-03-30"),  # Saturday rolls to Monday
        ("2026-03-20", 11, CNB, "2026-04-01"),  # holiday rolls to Wednesday
        ("2026-11-25", 2, BUS, "2026-12-01"),
        ("2026-12-24", 14, CNB, "2027-01-07"),
        ("2026-03-20", 0, CAL, "2026-03-20"),
        ("2026-03-20", 0, BUS, "2026-03-20"),
        ("2026-03-20", 0, CNB, "2026-03-20"),
    ],
)
def test_extension_adds_days_by_the_same_method_from_the_current_due_date(
    current, extra, method, expected
):
    assert extend(d(current), extra, method, LA) == d(expected)


def test_response_then_extension_typical_flow():
    received_at = la(2026, 3, 16, 9, 0)
    first = due_date(received_at, DeadlineRule(10, CNB), LA, web_submission=True)
    assert first == d("2026-03-26")
    assert extend(first, 14, CNB, LA) == d("2026-04-09")


# --- pause and resume ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", [CAL, BUS])
@pytest.mark.parametrize("due", ["2026-03-20", "2026-03-23", "2026-04-01", "2026-11-30"])
@pytest.mark.parametrize("paused_hour", [0, 9, 17, 23])
def test_pause_and_resume_on_the_same_day_gives_back_the_same_due_date(method, due, paused_hour):
    paused_at = la(2026, 3, 10, paused_hour, 15)
    resumed_at = la(2026, 3, 10, 23, 59)
    left = remaining_days(paused_at, d(due), method, LA)
    assert resume(resumed_at, left, method, LA) == d(due)


def test_calendar_next_business_same_day_pause_keeps_a_business_due_date():
    left = remaining_days(la(2026, 3, 10, 9), d("2026-03-20"), CNB, LA)
    assert resume(la(2026, 3, 10, 15), left, CNB, LA) == d("2026-03-20")


def test_calendar_next_business_same_day_pause_rolls_a_weekend_due_date():
    # Only reachable if the due date was set on a weekend by hand or a holiday was removed.
    left = remaining_days(la(2026, 3, 10, 9), d("2026-03-21"), CNB, LA)
    assert resume(la(2026, 3, 10, 15), left, CNB, LA) == d("2026-03-23")


@pytest.mark.parametrize(
    ("method", "due", "paused_at", "resumed_at", "left", "new_due"),
    [
        # Paused a week (Monday to Monday): 5 business / 7 calendar days are added.
        (BUS, "2026-03-20", la(2026, 3, 9, 10), la(2026, 3, 16, 10), 9, "2026-03-27"),
        (CAL, "2026-03-20", la(2026, 3, 9, 10), la(2026, 3, 16, 10), 11, "2026-03-27"),
        (CNB, "2026-03-20", la(2026, 3, 9, 10), la(2026, 3, 16, 10), 11, "2026-03-27"),
        # A pause over Cesar Chavez Day: the holiday is skipped on resume as well.
        (BUS, "2026-03-27", la(2026, 3, 23, 10), la(2026, 3, 30, 10), 4, "2026-04-06"),
        # Resume late in the evening local time (already the next day in UTC).
        (BUS, "2026-03-20", la(2026, 3, 9, 10), utc(2026, 3, 17, 6, 30), 9, "2026-03-27"),
        # Over Thanksgiving: paused Friday 11-20, resumed Monday 11-30.
        (BUS, "2026-12-04", la(2026, 11, 20, 10), la(2026, 11, 30, 10), 8, "2026-12-10"),
    ],
)
def test_pausing_adds_the_paused_counting_days_to_the_due_date(
    method, due, paused_at, resumed_at, left, new_due
):
    assert remaining_days(paused_at, d(due), method, LA) == left
    assert resume(resumed_at, left, method, LA) == d(new_due)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "paused_at",
    [
        la(2026, 3, 20, 9),  # on the due day
        la(2026, 3, 20, 23, 59, 59),
        la(2026, 3, 23, 9),  # overdue
        la(2026, 6, 1, 9),
    ],
)
def test_pausing_when_due_or_overdue_leaves_zero_days_never_negative(method, paused_at):
    assert remaining_days(paused_at, d("2026-03-20"), method, LA) == 0


@pytest.mark.parametrize(("method", "left"), [(CAL, 1), (BUS, 1), (CNB, 1)])
def test_pausing_the_day_before_due_leaves_one_day(method, left):
    assert remaining_days(la(2026, 3, 19, 16), d("2026-03-20"), method, LA) == left


@pytest.mark.parametrize(
    ("resumed_at", "method", "expected"),
    [
        (la(2026, 3, 14, 10), BUS, "2026-03-16"),  # Saturday
        (la(2026, 3, 14, 10), CNB, "2026-03-16"),
        (la(2026, 3, 14, 10), CAL, "2026-03-14"),
        (la(2026, 3, 31, 10), BUS, "2026-04-01"),  # Cesar Chavez Day
        (la(2026, 3, 16, 10), BUS, "2026-03-16"),
    ],
)
def test_resuming_with_zero_days_left_is_due_on_the_resume_day_rolled_for_business_methods(
    resumed_at, method, expected
):
    assert resume(resumed_at, 0, method, LA) == d(expected)


# --- round-trip properties over every day of 2026 ----------------------------------------------


@pytest.mark.parametrize("method", [CAL, BUS])
@pytest.mark.parametrize("days", [1, 2, 5, 10, 20, 45])
def test_counting_days_between_inverts_add_counting_days(method, days):
    failures = []
    for start in DAYS_OF_2026:
        due = add_counting_days(start, days, method, LA)
        if counting_days_between(start, due, method, LA) != days:
            failures.append(start)
        # The due date is the first day on which the count is reached.
        if counting_days_between(start, due - timedelta(days=1), method, LA) != days - 1:
            failures.append(start)
    assert failures == []


@pytest.mark.parametrize("days", [0, 1, 2, 5, 10, 20, 45])
def test_calendar_next_business_is_the_first_business_day_on_or_after_the_calendar_date(days):
    failures = []
    for start in DAYS_OF_2026:
        due = add_counting_days(start, days, CNB, LA)
        plain = start + timedelta(days=days)
        skipped = [plain + timedelta(days=i) for i in range((due - plain).days)]
        rolled_past_a_business_day = any(LA.is_business_day(day) for day in skipped)
        if due < plain or not LA.is_business_day(due) or rolled_past_a_business_day:
            failures.append(start)
    assert failures == []


@pytest.mark.parametrize("days", [0, 1, 2, 5, 10, 20, 45])
def test_business_due_date_is_always_a_business_day(days):
    assert all(LA.is_business_day(add_counting_days(s, days, BUS, LA)) for s in DAYS_OF_2026)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("days", [0, 1, 5, 10, 20])
def test_pause_on_day_zero_and_resume_same_day_gives_back_the_due_date(method, days):
    failures = []
    for start in DAYS_OF_2026:
        due = add_counting_days(start, days, method, LA)
        instant = datetime.combine(start, time(12), tzinfo=LA_ZONE)
        left = remaining_days(instant, due, method, LA)
        if resume(instant, left, method, LA) != due:
            failures.append(start)
    assert failures == []


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("pause_length", [0, 1, 3, 7, 30])
def test_resumed_due_date_equals_due_date_extended_by_the_paused_counting_days(
    method, pause_length
):
    failures = []
    for paused in DAYS_OF_2026:
        due = add_counting_days(paused, 10, method, LA)
        resumed = paused + timedelta(days=pause_length)
        left = remaining_days(datetime.combine(paused, time(9), tzinfo=LA_ZONE), due, method, LA)
        new_due = resume(datetime.combine(resumed, time(9), tzinfo=LA_ZONE), left, method, LA)
        paused_days = counting_days_between(paused, resumed, method, LA)
        if new_due != extend(due, paused_days, method, LA):
            failures.append(paused)
    assert failures == []


@pytest.mark.parametrize("span", [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 40, 400])
def test_business_days_between_matches_a_day_by_day_count(span):
    failures = []
    for start in DAYS_OF_2026:
        end = start + timedelta(days=span)
        if counting_days_between(start, end, BUS, LA) != naive_business_days(start, end, LA):
            failures.append(start)
    assert failures == []


@pytest.mark.parametrize(
    ("start", "end", "method", "expected"),
    [
        ("2026-03-20", "2026-03-20", BUS, 0),
        ("2026-03-20", "2026-03-13", BUS, 0),  # end before start
        ("2026-03-20", "2026-03-13", CAL, 0),
        ("2026-03-13", "2026-03-16", BUS, 1),  # (start, end]: Saturday and Sunday do not count
        ("2026-03-13", "2026-03-16", CAL, 3),
        ("2026-03-13", "2026-03-16", CNB, 3),  # pauses count calendar days for this method
        ("2026-11-25", "2026-11-30", BUS, 1),
        ("2026-12-24", "2027-01-04", BUS, 5),
    ],
)
def test_counting_days_between_counts_the_half_open_interval(start, end, method, expected):
    assert counting_days_between(d(start), d(end), method, LA) == expected


# --- overdue and due soon -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "now", "expected"),
    [
        (LA, la(2026, 3, 20, 23, 59, 59, 999998), False),
        (LA, la(2026, 3, 20, 23, 59, 59, 999999), False),
        (LA, la(2026, 3, 21, 0, 0, 0, 0), True),
        (LA, utc(2026, 3, 21, 6, 59, 59, 999999), False),  # the same boundary seen from UTC
        (LA, utc(2026, 3, 21, 7, 0, 0), True),
        (LA, la(2026, 3, 20, 9), False),
        (LA, la(2026, 3, 19, 9), False),
    ],
)
def test_overdue_only_after_the_last_microsecond_of_the_local_due_day(calendar, now, expected):
    assert is_overdue(now, d("2026-03-20"), calendar) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 2, 4, 30), False),  # 23:30 EST on the due day (00:30 on a stale EDT)
        (utc(2026, 11, 2, 4, 59, 59, 999999), False),
        (utc(2026, 11, 2, 5, 0, 0), True),
    ],
)
def test_overdue_boundary_on_a_fall_back_due_day(now, expected):
    assert is_overdue(now, d("2026-11-01"), NY) is expected


@pytest.mark.parametrize(
    ("now", "due", "within", "expected"),
    [
        (la(2026, 3, 18, 10), "2026-03-20", 2, True),  # Thursday and Friday left
        (la(2026, 3, 17, 10), "2026-03-20", 2, False),  # three business days left
        (la(2026, 3, 20, 23, 0), "2026-03-20", 2, True),  # due today
        (la(2026, 3, 21, 0, 0), "2026-03-20", 2, False),  # overdue is not "soon"
        (la(2026, 3, 20, 10), "2026-03-23", 2, True),  # weekend does not count
        (la(2026, 3, 19, 10), "2026-03-23", 2, True),
        (la(2026, 3, 18, 10), "2026-03-23", 2, False),
        (la(2026, 3, 27, 10), "2026-04-01", 2, True),  # Cesar Chavez Day does not count
        (la(2026, 3, 26, 10), "2026-04-01", 2, False),
        (la(2026, 3, 20, 10), "2026-03-20", 0, True),
        (la(2026, 3, 19, 10), "2026-03-20", 0, False),
        (la(2026, 3, 16, 10), "2026-03-20", 5, True),
    ],
)
def test_due_soon_within_business_days(now, due, within, expected):
    assert is_due_soon(now, d(due), LA, within_business_days=within) is expected


# --- validation and guards ----------------------------------------------------------------------

NAIVE = datetime(2026, 3, 10, 12, 0)
NAIVE_CALLS = {
    "local_date": lambda: LA.local_date(NAIVE),
    "day_zero": lambda: day_zero(NAIVE, LA, web_submission=True),
    "due_date": lambda: due_date(NAIVE, DeadlineRule(5, BUS), LA, web_submission=False),
    "due_at": lambda: due_at(NAIVE, DeadlineRule(5, BUS), LA, web_submission=False),
    "remaining_days": lambda: remaining_days(NAIVE, d("2026-03-20"), BUS, LA),
    "resume": lambda: resume(NAIVE, 3, BUS, LA),
    "is_overdue": lambda: is_overdue(NAIVE, d("2026-03-20"), LA),
    "is_due_soon": lambda: is_due_soon(NAIVE, d("2026-03-20"), LA),
}


@pytest.mark.parametrize("call", NAIVE_CALLS.values(), ids=NAIVE_CALLS.keys())
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "America/Los Angeles", "/etc/passwd", "../zoneinfo/UTC"]
)
def test_bad_time_zone_is_rejected_at_construction(name):
    with pytest.raises(ValueError, match="time zone"):
        AgencyCalendar(name)


NEGATIVE_CALLS = {
    "rule": lambda: DeadlineRule(-1, CAL),
    "add_counting_days": lambda: add_counting_days(d("2026-03-10"), -1, BUS, LA),
    "extend": lambda: extend(d("2026-03-10"), -3, CNB, LA),
    "resume": lambda: resume(la(2026, 3, 10, 9), -1, CAL, LA),
    "is_due_soon": lambda: is_due_soon(
        la(2026, 3, 10), d("2026-03-20"), LA, within_business_days=-1
    ),
}


@pytest.mark.parametrize("call", NEGATIVE_CALLS.values(), ids=NEGATIVE_CALLS.keys())
def test_negative_day_counts_are_rejected(call):
    with pytest.raises(ValueError, match=">= 0"):
        call()


def test_rule_accepts_a_stored_method_string_and_rejects_unknown_ones():
    assert DeadlineRule(10, "business").method is BUS
    with pytest.raises(ValueError):
        DeadlineRule(10, "fortnightly")


def test_rule_rejects_non_integer_days():
    with pytest.raises(TypeError):
        DeadlineRule(True, CAL)
    with pytest.raises(TypeError):
        DeadlineRule(2.5, CAL)


def test_calendar_rejects_datetimes_as_holidays_and_dates():
    with pytest.raises(TypeError):
        AgencyCalendar("America/Los_Angeles", frozenset({datetime(2026, 3, 10)}))
    with pytest.raises(TypeError):
        add_counting_days(la(2026, 3, 10), 1, CAL, LA)
    with pytest.raises(TypeError):
        is_overdue(la(2026, 3, 10), la(2026, 3, 20), LA)


def test_calendar_rejects_an_aware_cutoff():
    with pytest.raises(ValueError, match="naive"):
        AgencyCalendar("America/Los_Angeles", cutoff=time(17, tzinfo=UTC))


def test_calendar_freezes_any_holiday_collection_and_stays_hashable():
    calendar = AgencyCalendar("America/Los_Angeles", CA_HOLIDAYS.keys())
    assert calendar.holidays == LA.holidays
    assert calendar == LA
    assert hash(calendar) == hash(LA)


def test_date_arithmetic_past_year_9999_is_a_value_error():
    with pytest.raises(ValueError, match="outside the supported dates"):
        add_counting_days(date.max, 1, CAL, LA)


def _closed(start: date, days: int) -> frozenset[date]:
    return frozenset(start + timedelta(days=i) for i in range(days))


@pytest.mark.parametrize(
    "call",
    [
        lambda cal: add_counting_days(d("2026-01-01"), 1, BUS, cal),
        lambda cal: add_counting_days(d("2026-01-01"), 0, BUS, cal),
        lambda cal: add_counting_days(d("2026-01-01"), 5, CNB, cal),
        lambda cal: resume(la(2026, 1, 1, 9), 0, BUS, cal),
        lambda cal: extend(d("2026-01-01"), 1, BUS, cal),
    ],
    ids=["business", "business-zero", "calendar-next-business", "resume", "extend"],
)
def test_a_calendar_without_business_days_raises_instead_of_hanging(monkeypatch, call):
    monkeypatch.setattr(deadlines, "MAX_SEARCH_DAYS", 30)
    closed = AgencyCalendar("America/Los_Angeles", _closed(d("2025-12-01"), 120))
    with pytest.raises(ValueError, match="no business day within 30 days"):
        call(closed)


def test_a_closure_shorter_than_the_cap_is_skipped(monkeypatch):
    monkeypatch.setattr(deadlines, "MAX_SEARCH_DAYS", 30)
    closed = AgencyCalendar("America/Los_Angeles", _closed(d("2026-01-01"), 25))
    assert add_counting_days(d("2025-12-31"), 1, BUS, closed) == d("2026-01-26")


def test_the_default_cap_is_ten_years_and_still_raises():
    assert deadlines.MAX_SEARCH_DAYS == 3660
    closed = AgencyCalendar("America/Los_Angeles", _closed(d("2026-01-01"), 3700))
    with pytest.raises(ValueError, match="no business day within 3660 days"):
        add_counting_days(d("2026-01-01"), 1, BUS, closed)


def test_end_of_the_last_representable_day_is_a_value_error():
    with pytest.raises(ValueError, match="outside the supported dates"):
        LA.end_of_day(date.max)
