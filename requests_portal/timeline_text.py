"""The public timeline in the reader's language.

A timeline entry's ``summary`` is stored in English (it is also read later by people whose
language nobody knows, and the audit log keeps the same words). English readers see it as
stored. For another language the sentence is rebuilt from the entry's kind, its data and the
parts of the summary staff typed (a reason, an outcome's name), which are shown as typed;
an entry this module does not know is shown as stored.

Apps above requests_portal (billing) add the entries they write through ``register_reader``
(called from their ``apps.py``), and the reasons they give when they pause the clock through
``register_reason``: requests_portal never imports them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext

from accounts.local_time import format_date
from requests_portal.models import Channel, TimelineEvent


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return format_date(datetime.date.fromisoformat(value))
    except ValueError:
        return ""


def _submitted(event: TimelineEvent, match: re.Match[str]) -> str | None:
    due = _day(event.data.get("due_date"))
    # The entry names the channel in English words: find it by its English label.
    with translation.override("en"):
        labels = {str(c.label).lower(): c for c in Channel}
    channel = labels.get(match["channel"])
    if not due or channel is None:
        return None
    values = {"channel": str(channel.label).lower(), "due": due}
    if match["day"]:
        values["day"] = _day(event.data.get("day_zero"))
        return gettext("Request received (%(channel)s, %(day)s); due %(due)s") % values
    return gettext("Request received (%(channel)s); due %(due)s") % values


def reason_text(text: str) -> str:
    """A pause reason in the reader's language when an app wrote it (``register_reason``),
    else as staff typed it."""
    for pattern, say in _REASONS:
        match = pattern.fullmatch(text)
        if match is not None:
            return say(match)
    return text


def _paused(event: TimelineEvent, match: re.Match[str]) -> str:
    if match["reason"]:
        return gettext("Clock paused: %(reason)s") % {"reason": reason_text(match["reason"])}
    return gettext("Clock paused")


def _resumed(event: TimelineEvent, match: re.Match[str]) -> str | None:
    due = _day(event.data.get("to"))
    if not due:
        return None
    if match["days"]:
        days = int(match["days"])
        return ngettext(
            "Clock restarted with %(days)d day left; due %(due)s",
            "Clock restarted with %(days)d days left; due %(due)s",
            days,
        ) % {"days": days, "due": due}
    return gettext("Clock restarted (it was already due when paused); due %(due)s") % {"due": due}


def _extended(event: TimelineEvent, match: re.Match[str]) -> str | None:
    due = _day(event.data.get("to"))
    if not due:
        return None
    days = int(match["days"])
    return ngettext(
        "Extended by %(days)d day: %(reason)s; now due %(due)s",
        "Extended by %(days)d days: %(reason)s; now due %(due)s",
        days,
    ) % {"days": days, "reason": match["reason"], "due": due}


def _due_changed(event: TimelineEvent, match: re.Match[str]) -> str | None:
    due = _day(event.data.get("to"))
    if not due:
        return None
    return gettext("Due date changed to %(due)s: %(reason)s") % {
        "due": due,
        "reason": match["reason"],
    }


def _fixed(text: str) -> Callable[[TimelineEvent, re.Match[str]], str]:
    return lambda event, match: gettext(text)


def _with_text(text: str) -> Callable[[TimelineEvent, re.Match[str]], str]:
    return lambda event, match: gettext(text) % {"text": match["text"]}


# kind → (how its English summary reads, how to say it in the reader's language).
_READERS: dict[
    str, tuple[re.Pattern[str], Callable[[TimelineEvent, re.Match[str]], str | None]]
] = {
    "submitted": (
        re.compile(r"Request received \((?P<channel>[^,)]+)(?:, (?P<day>[^)]+))?\); due .+"),
        _submitted,
    ),
    "acknowledged": (
        re.compile(r"Request acknowledged"),
        _fixed(gettext_noop("Request acknowledged")),
    ),
    "paused": (re.compile(r"Clock paused(?:: (?P<reason>.*))?", re.S), _paused),
    "resumed": (
        re.compile(
            r"Clock restarted (?:with (?P<days>\d+) days left|\(it was already due when paused\))"
            r"; due .+"
        ),
        _resumed,
    ),
    "extended": (
        re.compile(r"Extended by (?P<days>\d+) days: (?P<reason>.*); now due .+", re.S),
        _extended,
    ),
    "due_date_changed": (
        re.compile(r"Due date changed to [^:]+: (?P<reason>.*)", re.S),
        _due_changed,
    ),
    "closed": (
        re.compile(r"Closed: (?P<text>.*)", re.S),
        _with_text(gettext_noop("Closed: %(text)s")),
    ),
    "reopened": (
        re.compile(r"Reopened: (?P<text>.*)", re.S),
        _with_text(gettext_noop("Reopened: %(text)s")),
    ),
    "message_to_requester": (
        re.compile(r"Message sent to the requester"),
        _fixed(gettext_noop("Message sent to the requester")),
    ),
    "message_from_requester": (
        re.compile(r"Message from the requester"),
        _fixed(gettext_noop("Message from the requester")),
    ),
    "message_public_note": (re.compile(r"Note added"), _fixed(gettext_noop("Note added"))),
}


# Reasons an app writes itself (billing's "Waiting for payment of INV-2026-0001"): how they
# read, how to say them in the reader's language.
_REASONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = []


def register_reader(
    kind: str,
    pattern: re.Pattern[str],
    say: Callable[[TimelineEvent, re.Match[str]], str | None],
) -> None:
    """Say entries of ``kind`` in the reader's language: ``pattern`` matches the stored
    English summary, ``say`` rebuilds it from the entry's data and the match (None: shown as
    stored). For an app above requests_portal, from its ``AppConfig.ready``."""
    if _READERS.get(kind, (pattern, say)) != (pattern, say):
        raise ValueError(f"timeline kind {kind!r} already has a reader")
    _READERS[kind] = (pattern, say)


def register_reason(pattern: re.Pattern[str], say: Callable[[re.Match[str]], str]) -> None:
    """Say a pause reason an app writes (matching ``pattern`` whole) in the reader's
    language, where the clock's entries show it."""
    if all(known != pattern for known, _say in _REASONS):
        _REASONS.append((pattern, say))


def public_text(event: TimelineEvent) -> str:
    """The entry's summary in the active language (as stored, in English or when unknown)."""
    if (translation.get_language() or "en").split("-")[0] == "en":
        return event.summary
    reader = _READERS.get(event.kind)
    if reader is None:
        return event.summary
    pattern, say = reader
    match = pattern.fullmatch(event.summary)
    if match is None:
        return event.summary
    return say(event, match) or event.summary
