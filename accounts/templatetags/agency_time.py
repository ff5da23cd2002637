"""Dates and times in templates, on the agency's clock and naming its zone (accounts.local_time
does the work). Built in to every template (settings.TEMPLATES), so no ``{% load %}``:

    {{ event.created_at|agency_datetime }}        Dec 7, 2026, 9:14 AM CST
    {{ event.created_at|agency_datetime:"precise" }}  2026-12-07 09:14:03 CST
    {{ r.due_date|agency_date }}                  Dec 21, 2026
    {{ r.due_date|agency_date:"long_date" }}      Monday, December 21, 2026
    {{ r.received_at|agency_day }}                the agency's calendar day of a moment (to compare)
    {{ cutoff|agency_wall_time }}                 5:00 PM CST
    <time datetime="{{ m.created_at|agency_iso }}">
    {% agency_zone_name %}                        America/Chicago

A style is one of accounts.local_time.FORMATS or a Django date format string. Empty values
show as nothing, so ``|default:"never"`` still works after them.
"""

from __future__ import annotations

import datetime

from django import template

from accounts import local_time

register = template.Library()


@register.filter
def agency_datetime(value: datetime.datetime | None, style: str = "datetime") -> str:
    if not isinstance(value, datetime.datetime):
        return ""
    return local_time.format_datetime(value, style)


@register.filter
def agency_date(value: datetime.date | None, style: str = "date") -> str:
    if not isinstance(value, datetime.date):
        return ""
    return local_time.format_date(value, style)


@register.filter
def agency_day(value: datetime.datetime | None) -> datetime.date | None:
    if not isinstance(value, datetime.datetime):
        return None
    return local_time.local_date(value)


@register.filter
def agency_wall_time(value: datetime.time | None, style: str = "time") -> str:
    if not isinstance(value, datetime.time):
        return ""
    return local_time.format_wall_time(value, style)


@register.filter
def agency_iso(value: datetime.datetime | None) -> str:
    if not isinstance(value, datetime.datetime):
        return ""
    return local_time.iso_datetime(value)


@register.simple_tag
def agency_zone_name() -> str:
    return str(local_time.active_zone())
