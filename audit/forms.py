"""The audit viewer's filter: every value a person (or anyone with the address) can put in
the query string is checked here, so a malformed one is a message next to its field and
never reaches a query. Dates are calendar days of the agency, turned into instants in its
time zone; the end date is inclusive."""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError

from audit import registry
from audit.selectors import Cursor, EventFilters

# Calendar days the filter accepts: wide enough for any log, narrow enough that a day's
# neighbour and its instant in any time zone exist.
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2999, 12, 31)
_TARGET_ID = re.compile(r"[\w.:@-]{1,64}")


def _target_type_label(label: str) -> str:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return registry.humanise_code(label)
    return str(model._meta.verbose_name).capitalize()


class EventFilterForm(forms.Form):
    category = forms.ChoiceField(label="Kind of event", required=False)
    action = forms.ChoiceField(label="Event", required=False)
    actor = forms.CharField(
        label="Who", required=False, max_length=200, help_text="Part of a name or email address"
    )
    target_type = forms.ChoiceField(label="Kind of record", required=False)
    target_id = forms.CharField(label="Record number", required=False, max_length=64)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ip = forms.CharField(
        label="IP address",
        required=False,
        max_length=49,  # the longest IPv6 network with its prefix length
        help_text="An address, or a network such as 192.0.2.0/24",
    )
    q = forms.CharField(
        label="Search in details",
        required=False,
        min_length=2,
        max_length=200,
        help_text="Text to find in the event's details, matched as typed",
    )
    before = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args: Any, zone: ZoneInfo | datetime.tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.groups = registry.grouped_event_types()
        self._choices("category").choices = [
            ("", "All kinds"),
            *((c.key, c.label) for c, _ in self.groups),
        ]
        self._choices("action").choices = [
            ("", "All events"),
            *((c.label, [(t.code, t.title) for t in types]) for c, types in self.groups),
        ]
        kinds = ((label, _target_type_label(label)) for label in registry.target_types())
        self._choices("target_type").choices = [
            ("", "Any record"),
            *sorted(kinds, key=lambda choice: choice[1]),
        ]

    def _choices(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def _clean_day(self, name: str) -> datetime.date | None:
        day: datetime.date | None = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise ValidationError(
                f"Enter a date between {EARLIEST:%-d %B %Y} and {LATEST:%-d %B %Y}."
            )
        return day

    def clean_date_from(self) -> datetime.date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> datetime.date | None:
        return self._clean_day("date_to")

    def clean_ip(self) -> str:
        text: str = self.cleaned_data.get("ip", "").strip()
        if not text:
            return ""
        try:
            if "/" in text:
                return str(ipaddress.ip_network(text, strict=False))
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise ValidationError(
                "Enter an IP address (192.0.2.7 or 2001:db8::7) or a network (192.0.2.0/24)."
            ) from None

    def clean_target_id(self) -> str:
        text: str = self.cleaned_data.get("target_id", "").strip()
        if text and not _TARGET_ID.fullmatch(text):
            raise ValidationError("Enter the record's number as it appears in the portal.")
        return text

    def clean_actor(self) -> str:
        return str(self.cleaned_data.get("actor", "")).strip()

    def clean_q(self) -> str:
        return str(self.cleaned_data.get("q", ""))

    def _clean_cursor(self, name: str) -> Cursor | None:
        text = self.cleaned_data.get(name, "")
        if not text:
            return None
        cursor = Cursor.parse(text)
        if cursor is None:
            raise ValidationError("This page link is damaged: showing the newest events.")
        return cursor

    def clean_before(self) -> Cursor | None:
        return self._clean_cursor("before")

    def clean_after(self) -> Cursor | None:
        return self._clean_cursor("after")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    # --- What the view reads once the form is checked -----------------------------------------

    def filters(self) -> EventFilters:
        """The filters of the fields that are valid (an invalid field is shown with its
        error and left out, so the rest of the filter still applies)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        actions: tuple[str, ...] | None = None
        if data.get("category"):
            actions = tuple(
                t.code for c, types in self.groups if c.key == data["category"] for t in types
            )
        if data.get("action"):
            # An event and a kind together: the event, if it is of that kind.
            actions = tuple(a for a in actions or (data["action"],) if a == data["action"])
        start = end = None
        if data.get("date_from"):
            start = datetime.datetime.combine(data["date_from"], datetime.time(), self.zone)
        if data.get("date_to"):
            next_day = data["date_to"] + datetime.timedelta(days=1)
            end = datetime.datetime.combine(next_day, datetime.time(), self.zone)
        return EventFilters(
            actions=actions,
            actor=data.get("actor", ""),
            target_type=data.get("target_type", ""),
            target_id=data.get("target_id", ""),
            start=start,
            end=end,
            ip=data.get("ip", ""),
            search=data.get("q", ""),
        )

    def filter_params(self) -> list[tuple[str, str]]:
        """The valid filter values as query-string pairs, for page and export links."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        pairs = []
        for name in ("category", "action", "actor", "target_type", "target_id", "ip", "q"):
            if data.get(name):
                pairs.append((name, str(data[name])))
        for name in ("date_from", "date_to"):
            if data.get(name):
                pairs.append((name, data[name].isoformat()))
        return pairs

    def cursor(self, name: str) -> Cursor | None:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        value = data.get(name)
        return value if isinstance(value, Cursor) else None

    def described_filters(self) -> dict[str, str]:
        """The applied filters, for the export's audit event."""
        return dict(self.filter_params())
