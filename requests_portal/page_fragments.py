"""Parts of the residents' pages rendered once per process and reused while their inputs stay
the same (the public archive's result list and filter form).

Rendering the archive's 25 rows (a translated sentence, a link, a status label and a date
each) and its filter form's widgets was most of the page's time, and the same rows and the
same form come back for view after view. Each part here is a pure function of what it is
rendered from: the rows' own values as the page's query just read them (number, title,
status, received time, snippet), the form's submitted values and its department choices,
the active language, the agency's time zone, the script prefix and URL configuration. Those
values are the memo's key, so a changed request, department or language is a different key
and can never show a stale part; no invalidation is needed and none can be forgotten. The
queries themselves still run on every view (the rows the reader may see, under row-level
security), only their rendering is reused.

Nothing personal is rendered here (the archive shows no requester), and nothing that differs
per visitor (no CSRF token: the filter form is a GET form). The memo is per process and
bounded (least recently used entries go); the agency is part of every key.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import NamedTuple

from django.forms import Form
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

from accounts import local_time
from requests_portal.search import highlighted

# Entries kept per process: a page of rows or a filter form is a few kilobytes.
KEPT = 256


class _Kept:
    """A bounded memo: the least recently used entry goes when it is full."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> str:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = render()  # outside the lock: rendering may take milliseconds
        with self._lock:
            self._items[key] = made
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_rows = _Kept(KEPT)
_forms = _Kept(KEPT)


class ArchiveRow(NamedTuple):
    """What the archive shows of one request: all of it comes from the row itself."""

    number: str
    title: str
    status: str
    status_label: str  # in the active language, which is in the key
    received_at: datetime.datetime
    # ts_headline's text (not yet escaped), or None on the listing.
    snippet: str | None


def _environment() -> tuple[str, str, str, str]:
    """What a rendering depends on beyond its own values: language, the agency's zone (dates),
    and what reverse() reads."""
    return (
        get_language() or "",
        str(local_time.active_zone()),
        get_script_prefix(),
        str(get_urlconf() or ""),
    )


def archive_rows_html(agency_id: int, rows: list[ArchiveRow]) -> str:
    """The archive's result list (``_archive_rows.html``) for these rows: the engine's own
    safe output."""
    key = ("archive-rows", agency_id, _environment(), tuple(rows))

    def render() -> str:
        shown = [
            {
                **row._asdict(),
                # Escaped here, from the raw text: only highlighted()'s own markup is safe
                # (the key holds plain text, never a string already marked safe).
                "snippet": highlighted(row.snippet) if row.snippet is not None else None,
            }
            for row in rows
        ]
        return render_to_string("requests_portal/_archive_rows.html", {"results": shown})

    return _rows.get(key, render)


def archive_form_html(agency_id: int, form: Form, departments: list[tuple[int, str]]) -> str:
    """The archive's filter fields (``_archive_form.html``) for the values the form was given
    (its errors follow from them and the department choices, both in the key)."""
    data = tuple((name, form.data.get(name)) for name in form.fields) if form.is_bound else None
    key = ("archive-form", agency_id, _environment(), tuple(departments), data)
    return _forms.get(
        key, lambda: render_to_string("requests_portal/_archive_form.html", {"form": form})
    )


def forget_all() -> None:
    """Empty the memos (tests)."""
    _rows.clear()
    _forms.clear()
