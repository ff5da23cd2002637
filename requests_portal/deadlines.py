"""Response and acknowledgement deadlines for public-records requests.

Pure date arithmetic: no models, no database, no settings, so every rule can be tested
exhaustively and reused by services, tasks and reports alike.

Rules (US public-records practice):

- A deadline is ``days`` counting days after day 0, counted by one of three methods:
  ``calendar`` (every day counts), ``business`` (Monday-Friday that is not an agency holiday),
  or ``calendar_next_business`` (calendar days, then roll forward off a weekend or holiday).
  ``days == 0`` means due on day 0 itself, rolled to a business day by the business methods.
- Day 0 is the local date of receipt in the agency's time zone. Web submissions at or after the
  agency's cut-off (17:00 local by default) count as received the next calendar day;
  staff-logged requests (phone, mail, walk-in) have no cut-off.
- A request is due at the end of its local due day (23:59:59.999999 local).
- Extensions add more days by the same method, counted from the current due date.
- Pausing keeps the counting days left strictly after the pause's local date, up to and
  including the due date; resuming grants that many counting days strictly after the resume's
  local date.

The acknowledgement deadline is just another ``DeadlineRule`` run through the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = [
    "MAX_SEARCH_DAYS",
    "AgencyCalendar",
    "CountingMethod",
    "DeadlineRule",
    "add_counting_days",
    "counting_days_between",
    "day_zero",
    "default_holidays",
    "due_at",
    "due_date",
    "extend",
    "is_due_soon",
    "is_overdue",
    "remaining_days",
    "resume",
]

# Ten years: no real holiday calendar closes an agency for that long, so a longer run of
# non-business days means bad holiday data, and raising beats spinning forever.
MAX_SEARCH_DAYS = 3660

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


class CountingMethod(StrEnum):
    CALENDAR = "calendar"
    BUSINESS = "business"
    CALENDAR_NEXT_BUSINESS = "calendar_next_business"


def _require_days(value: int, name: str) -> int:
    # bool is an int subclass; True days is always a caller bug, not "1 day".
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _require_date(value: date, name: str) -> date:
    # datetime subclasses date, but a datetime never equals a date, so it would silently miss
    # every holiday and leak a datetime into due dates.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (not a datetime), got {type(value).__name__}")
    return value


def _require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware; a naive time has no agency-local date")
    return value


@dataclass(frozen=True)
class DeadlineRule:
    days: int
    method: CountingMethod

    def __post_init__(self) -> None:
        _require_days(self.days, "days")
        # Rules are stored as strings; accepting "business" keeps loaders simple and still
        # rejects unknown methods here rather than deep inside a calculation.
        object.__setattr__(self, "method", CountingMethod(self.method))


@dataclass(frozen=True)
class AgencyCalendar:
    time_zone: str
    holidays: frozenset[date] = frozenset()
    cutoff: time = time(17, 0)

    def __post_init__(self) -> None:
        if not isinstance(self.time_zone, str):
            raise TypeError(f"time_zone must be a str, got {type(self.time_zone).__name__}")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone: {self.time_zone!r}") from exc
        # Callers naturally pass dict keys or sets; freezing here keeps the dataclass hashable.
        days = frozenset(self.holidays)
        for day in days:
            _require_date(day, "each holiday")
        object.__setattr__(self, "holidays", days)
        if not isinstance(self.cutoff, time):
            raise TypeError(f"cutoff must be a time, got {type(self.cutoff).__name__}")
        if self.cutoff.tzinfo is not None:
            # The cut-off is agency wall-clock time; an offset would be wrong half the year.
            raise ValueError("cutoff must be a naive local time (no tzinfo)")

    @property
    def zone(self) -> ZoneInfo:
        # ZoneInfo caches instances by key, so this is cheap and keeps the dataclass plain.
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        _require_date(day, "day")
        return day.weekday() < _SATURDAY and day not in self.holidays

    def local_date(self, instant: datetime) -> date:
        _require_aware(instant, "instant")
        return instant.astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """The last instant whose local date is ``day``, as an aware local datetime."""
        _require_date(day, "day")
        zone = self.zone
        wall = datetime.combine(day, time.max)
        try:
            # fold=1 picks the later of a repeated wall time: where clocks fall back across
            # midnight (e.g. America/Santiago) the day really ends at the second 23:59:59.
            candidate = wall.replace(tzinfo=zone, fold=1).astimezone(UTC).astimezone(zone)
            if candidate.replace(tzinfo=None) == wall:
                return candidate
            # 23:59:59.999999 can fall in a spring-forward gap (America/Nuuk jumps from 23:00
            # to 00:00), so the day ends just before the jump instead.
            return self._last_instant_of(day)
        except OverflowError as exc:
            raise ValueError(f"end of {day.isoformat()} is outside the supported dates") from exc

    def _last_instant_of(self, day: date) -> datetime:
        # Offsets lie within -12h..+14h, so these bounds bracket the end of any local day.
        low = datetime.combine(day, time.min, tzinfo=UTC) - timedelta(hours=15)
        high = datetime.combine(day + _ONE_DAY, time.min, tzinfo=UTC) + timedelta(hours=13)
        span = (high - low) // timedelta(microseconds=1)
        # Invariant: local date at low + lo_us <= day < local date at low + hi_us.
        lo_us, hi_us = 0, span
        while hi_us - lo_us > 1:
            mid = (lo_us + hi_us) // 2
            if self.local_date(low + timedelta(microseconds=mid)) <= day:
                lo_us = mid
            else:
                hi_us = mid
        last = (low + timedelta(microseconds=lo_us)).astimezone(self.zone)
        if last.date() != day:
            raise ValueError(f"{day.isoformat()} does not exist in {self.time_zone}")
        return last


def default_holidays(years: Iterable[int], *, state: str | None = None) -> dict[date, str]:
    """US federal holidays plus the state's (holidays.country_holidays('US', subdiv=state,
    years=...)), observed dates included.

    With a state, the library gives that state's view: federal holidays the state does not
    observe drop out (California has no Columbus Day). Agencies curate the result, since it
    also lists commemorative days on which offices may stay open.
    """
    year_list = sorted(set(years))
    for year in year_list:
        if isinstance(year, bool) or not isinstance(year, int):
            raise TypeError(f"years must be ints, got {year!r}")
    subdivision = state.strip().upper() if state is not None else None
    try:
        calendar = holidays_lib.country_holidays("US", subdiv=subdivision, years=year_list)
    except NotImplementedError as exc:
        # The library signals an unknown subdivision this way; callers expect bad input to be
        # a ValueError like everywhere else in this module.
        raise ValueError(f"unknown US state or territory: {state!r}") from exc
    return dict(sorted(calendar.items()))


def _shift(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError as exc:
        raise ValueError(f"{day.isoformat()} + {days} days is outside the supported dates") from exc


def _first_business_day_after(day: date, calendar: AgencyCalendar) -> date:
    for step in range(1, MAX_SEARCH_DAYS + 1):
        candidate = _shift(day, step)
        if calendar.is_business_day(candidate):
            return candidate
    raise ValueError(
        f"no business day within {MAX_SEARCH_DAYS} days after {day.isoformat()}; "
        "the agency's holiday calendar leaves no working days"
    )


def _roll_forward(day: date, calendar: AgencyCalendar) -> date:
    if calendar.is_business_day(day):
        return day
    return _first_business_day_after(day, calendar)


def day_zero(received_at: datetime, calendar: AgencyCalendar, *, web_submission: bool) -> date:
    _require_aware(received_at, "received_at")
    local = received_at.astimezone(calendar.zone)
    # Only the public form runs around the clock; staff enter the date they received it.
    if web_submission and local.time() >= calendar.cutoff:
        return _shift(local.date(), 1)
    return local.date()


def add_counting_days(
    start: date, days: int, method: CountingMethod, calendar: AgencyCalendar
) -> date:
    """The ``days``-th counting day after ``start`` (``start`` itself for 0, rolled to a
    business day by the business methods)."""
    _require_date(start, "start")
    _require_days(days, "days")
    method = CountingMethod(method)
    if method is CountingMethod.CALENDAR:
        return _shift(start, days)
    if method is CountingMethod.CALENDAR_NEXT_BUSINESS:
        return _roll_forward(_shift(start, days), calendar)
    if days == 0:
        return _roll_forward(start, calendar)
    day = start
    for _ in range(days):
        day = _first_business_day_after(day, calendar)
    return day


def counting_days_between(
    start: date, end: date, method: CountingMethod, calendar: AgencyCalendar
) -> int:
    """Counting days in (start, end]; 0 if end <= start. calendar_next_business counts
    calendar days: the roll only moves a final due date, it does not make weekends free."""
    _require_date(start, "start")
    _require_date(end, "end")
    method = CountingMethod(method)
    if end <= start:
        return 0
    span = (end - start).days
    if method is not CountingMethod.BUSINESS:
        return span
    # Whole weeks hold five weekdays each; only the tail needs looking at, which keeps this
    # constant-time for long spans such as reports over years.
    weeks, tail = divmod(span, 7)
    weekdays = weeks * 5 + sum(
        1 for offset in range(1, tail + 1) if (start.weekday() + offset) % 7 < _SATURDAY
    )
    closed = sum(1 for h in calendar.holidays if start < h <= end and h.weekday() < _SATURDAY)
    return weekdays - closed


def due_date(
    received_at: datetime, rule: DeadlineRule, calendar: AgencyCalendar, *, web_submission: bool
) -> date:
    start = day_zero(received_at, calendar, web_submission=web_submission)
    return add_counting_days(start, rule.days, rule.method, calendar)


def due_at(
    received_at: datetime, rule: DeadlineRule, calendar: AgencyCalendar, *, web_submission: bool
) -> datetime:
    """End of the local due day, as an aware datetime in the agency's zone."""
    return calendar.end_of_day(due_date(received_at, rule, calendar, web_submission=web_submission))


def extend(
    current_due: date, extra_days: int, method: CountingMethod, calendar: AgencyCalendar
) -> date:
    _require_days(extra_days, "extra_days")
    return add_counting_days(current_due, extra_days, method, calendar)


def remaining_days(
    paused_at: datetime, current_due: date, method: CountingMethod, calendar: AgencyCalendar
) -> int:
    """Counting days strictly after the pause's local date up to and including the due date;
    0 when already due or overdue. The pause day itself is spent, as the clock ran that day."""
    _require_date(current_due, "current_due")
    return counting_days_between(calendar.local_date(paused_at), current_due, method, calendar)


def resume(
    resumed_at: datetime, remaining: int, method: CountingMethod, calendar: AgencyCalendar
) -> date:
    """New due date: the ``remaining``-th counting day after the resume's local date."""
    _require_days(remaining, "remaining")
    return add_counting_days(calendar.local_date(resumed_at), remaining, method, calendar)


def is_overdue(now: datetime, due: date, calendar: AgencyCalendar) -> bool:
    _require_aware(now, "now")
    # Compare in UTC: same-zone comparisons ignore fold and would misjudge a repeated hour.
    return now.astimezone(UTC) > calendar.end_of_day(due).astimezone(UTC)


def is_due_soon(
    now: datetime, due: date, calendar: AgencyCalendar, *, within_business_days: int = 2
) -> bool:
    """Not yet overdue, and due within ``within_business_days`` business days of today
    (due today counts as 0)."""
    _require_days(within_business_days, "within_business_days")
    if is_overdue(now, due, calendar):
        return False
    today = calendar.local_date(now)
    left = counting_days_between(today, due, CountingMethod.BUSINESS, calendar)
    return left <= within_business_days
