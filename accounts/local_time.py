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

from django.utils import timezone

from accounts.models import Agency


def agency_zone(agency: Agency) -> ZoneInfo:
    """The agency's time zone (an IANA name, checked when it is saved)."""
    return ZoneInfo(agency.time_zone)


def agency_today(agency: Agency) -> datetime.date:
    """Today on the agency's calendar."""
    return timezone.now().astimezone(agency_zone(agency)).date()
