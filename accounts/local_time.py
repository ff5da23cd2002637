"""The agency's own calendar: its time zone and its "today".

Every date a person reads or types (today, a due date, a report's range, the day time was
spent, the year of a request number) is the agency's, never the server's: at 11 PM in Chicago
a server on UTC is already on tomorrow, and in the first days of January on next year. So
product code never asks for ``date.today()``, ``timezone.localdate()`` or ``.date()`` of a
UTC instant; it asks here (or the deadline engine's calendar, which reads the same zone).
Instants (``timezone.now()``, stored in UTC) need no agency: only turning one into a date does.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone
from django.utils.translation import pgettext_lazy

from accounts.models import Agency


def agency_zone(agency: Agency) -> ZoneInfo:
    """The agency's time zone (an IANA name, checked when it is saved)."""
    return ZoneInfo(agency.time_zone)


def agency_today(agency: Agency) -> datetime.date:
    """Today on the agency's calendar."""
    return timezone.now().astimezone(agency_zone(agency)).date()


# --- Showing dates and times ------------------------------------------------------------------
# One way to show a moment or a day, used by every page, email and export: a moment is turned
# into the agency's zone and always names that zone ("Dec 7, 2026, 9:14 AM CST"), so a reader
# never has to guess whose clock it is; a day (a due date, day 0) is a date on the agency's
# calendar and is shown as it is. Templates use the filters of accounts/templatetags/agency_time.py
# (built in to every template); tests/test_template_dates.py refuses Django's raw |date and |time.

# Named formats (Django's date format characters, so month and day names follow the language).
# Each is itself translated: Spanish writes the day before the month and a 24-hour clock
# ("7 dic 2026, 09:14 CST"), which month names alone would not give.
FORMATS = {
    "date": pgettext_lazy("date format", "M j, Y"),
    "short_date": pgettext_lazy("date format", "M j"),
    "weekday_date": pgettext_lazy("date format", "D, M j, Y"),
    "long_date": pgettext_lazy("date format", "l, F j, Y"),
    "datetime": pgettext_lazy("date format", "M j, Y, g:i A"),
    "time": pgettext_lazy("date format", "g:i A"),
    # Audit log: exact to the second, sortable, the same in every language.
    "precise": "Y-m-d H:i:s",
}


def active_zone() -> datetime.tzinfo:
    """The zone pages are shown in: the agency's on its pages (TenantContextMiddleware
    activates it, and so does ``showing_times_of`` around emails), UTC elsewhere."""
    return timezone.get_current_timezone()


def showing_times_of(agency: Agency):
    """Render inside this (``with showing_times_of(agency): render_to_string(...)``) when no
    page of the agency's is being answered: emails, tasks."""
    return timezone.override(agency_zone(agency))


def in_zone(moment: datetime.datetime, zone: datetime.tzinfo | None = None) -> datetime.datetime:
    """The moment on the zone's clock (the active zone by default). A naive value is taken as
    UTC, which is what the database keeps."""
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(zone or active_zone())


def zone_label(local: datetime.datetime) -> str:
    """The zone's name at that moment as people write it: its abbreviation (CST, CDT), or
    the offset from UTC where the zone has none ("UTC-03:00" rather than tzdata's "-03")."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset() or datetime.timedelta(0)
    sign = "-" if offset < datetime.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _format_string(style: str) -> str:
    return str(FORMATS.get(style, style))


def format_datetime(
    moment: datetime.datetime, style: str = "datetime", zone: datetime.tzinfo | None = None
) -> str:
    """A moment on the agency's clock, naming the zone: "Dec 7, 2026, 9:14 AM CST"."""
    local = in_zone(moment, zone)
    return f"{dateformat.format(local, _format_string(style))} {zone_label(local)}"


def local_date(moment: datetime.datetime, zone: datetime.tzinfo | None = None) -> datetime.date:
    """The agency's calendar day of a moment."""
    return in_zone(moment, zone).date()


def format_date(
    day: datetime.date, style: str = "date", zone: datetime.tzinfo | None = None
) -> str:
    """A day as people write it ("Dec 7, 2026"); a moment is first put on the agency's
    calendar (its day there, not in UTC)."""
    if isinstance(day, datetime.datetime):
        day = local_date(day, zone)
    return dateformat.format(day, _format_string(style))


def format_wall_time(
    wall: datetime.time, style: str = "time", zone: datetime.tzinfo | None = None
) -> str:
    """A time of day on the agency's clock (a cut-off), naming the zone as it is today."""
    today = in_zone(timezone.now(), zone)
    local = datetime.datetime.combine(today.date(), wall, tzinfo=today.tzinfo)
    return f"{dateformat.format(local, _format_string(style))} {zone_label(in_zone(local, zone))}"


def iso_datetime(moment: datetime.datetime, zone: datetime.tzinfo | None = None) -> str:
    """ISO 8601 with the offset, for machines (``<time datetime>``, exports)."""
    return in_zone(moment, zone).isoformat(timespec="seconds")
