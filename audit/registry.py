"""The registry of audit event types: a unique code, a short label, a category and a human
sentence for each.

The audit app knows nothing of the apps above it, so they describe their own events: each
app's ``audit_events.py`` registers its categories and event types at import time (the app's
``AppConfig.ready`` imports it), its page titles for the "opened a page" events, and, from
``apps.py``, how to name the rows its events are about (``register_target_namer``). Recording
an unregistered code raises, so a typo cannot write an event nobody can read; an old code that
is no longer registered still reads as words (``describe_unknown``).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Category:
    """A group of event types in the audit log's filter ("Sign-in and sessions")."""

    key: str
    label: str
    order: int


_categories: dict[str, Category] = {}


def category(key: str, label: str, order: int) -> Category:
    """Register a category, or return the same one already registered (two apps may share
    one, "Settings"); the same key with another label or order is refused."""
    wanted = Category(key, label, order)
    existing = _categories.get(key)
    if existing is not None:
        if existing != wanted:
            raise ValueError(f"Audit category {key!r} is already registered as {existing}.")
        return existing
    _categories[key] = wanted
    return wanted


OTHER = category("other", "Other", 1000)


def all_categories() -> list[Category]:
    return sorted(_categories.values(), key=lambda c: (c.order, c.label))


def get_category(key: str) -> Category | None:
    return _categories.get(key)


# A sentence is a str.format() template over the event's details plus "actor" and "target",
# or a function of that same context returning the sentence (for events whose wording depends
# on a detail: a message's kind, the settings that changed).
Sentence = str | Callable[[Mapping[str, Any]], str]


class _Formatter(string.Formatter):
    """str.format that refuses attribute and index lookups in a template: a sentence reads
    details by name, never reaches into them."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return super().get_field(field_name, args, kwargs)


_formatter = _Formatter()


@dataclass(frozen=True)
class EventType:
    code: str
    template: Sentence
    label: str = ""  # what happened, in a few words, for the filter ("Signed in")
    category: Category = field(default=OTHER)

    @property
    def title(self) -> str:
        """The label, or the code in words when the type was registered without one."""
        return self.label or humanise_code(self.code)

    def describe(self, *, actor: str, target: str, details: Mapping[str, object]) -> str:
        """The sentence of one event. Details that clash with "actor" or "target", or a
        template the details don't fill, give the label and the actor instead of an error."""
        if "actor" in details or "target" in details:
            return self._fallback(actor)
        context: dict[str, Any] = {**details, "actor": actor, "target": target}
        try:
            if callable(self.template):
                return self.template(context)
            return _formatter.vformat(self.template, (), context)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return self._fallback(actor)

    def _fallback(self, actor: str) -> str:
        return f"{self.title} ({actor})" if actor else self.title


_registry: dict[str, EventType] = {}


def register(
    code: str, template: Sentence, *, label: str = "", category: Category = OTHER
) -> EventType:
    if code in _registry:
        raise ValueError(f"Audit event type {code!r} is already registered.")
    if not code or len(code) > 80 or code != code.strip().lower():
        raise ValueError(f"Audit event code {code!r} must be lower-case, 1-80 characters.")
    if category.key not in _categories:
        raise ValueError(f"Register the audit category {category.key!r} first.")
    event_type = EventType(code, template, label, category)
    _registry[code] = event_type
    return event_type


def get(code: str) -> EventType:
    try:
        return _registry[code]
    except KeyError:
        raise LookupError(f"Unknown audit event type {code!r}: register it first.") from None


def all_event_types() -> list[EventType]:
    return sorted(_registry.values(), key=lambda e: e.code)


def grouped_event_types() -> list[tuple[Category, list[EventType]]]:
    """Every event type under its category, categories in their order, types by label."""
    groups: dict[str, list[EventType]] = {}
    for event_type in _registry.values():
        groups.setdefault(event_type.category.key, []).append(event_type)
    return [
        (c, sorted(groups[c.key], key=lambda e: e.title.lower()))
        for c in all_categories()
        if c.key in groups
    ]


def humanise_code(code: str) -> str:
    """ "request.task_added" → "Request: task added": a code nobody described, in words."""
    head, _, tail = code.partition(".")
    words = [part.replace("_", " ").strip() for part in (head, tail) if part.strip()]
    if not words:
        return "Unknown event"
    text = ": ".join(words)
    return text[0].upper() + text[1:]


def describe_unknown(code: str, *, actor: str) -> str:
    """The sentence of an event whose type is not registered (any more)."""
    text = humanise_code(code)
    return f"{text} ({actor})" if actor else text


# --- Pages: the "opened a page" events name the page, not the URL's name ----------------------

_page_titles: dict[str, str] = {}


def register_page_titles(titles: Mapping[str, str]) -> None:
    """Titles of pages by URL name as recorded ("staff:member_role"); a title is a
    str.format() template over the URL's parameters ("request {number}")."""
    for name, title in titles.items():
        if name in _page_titles and _page_titles[name] != title:
            raise ValueError(f"A page title for {name!r} is already registered.")
        _page_titles[name] = title


def page_titles() -> Mapping[str, str]:
    return dict(_page_titles)


def page_title(view_name: str, kwargs: Mapping[str, object] | None = None) -> str:
    """The page's title, filled with its URL parameters where they are known; a URL name
    nobody titled reads as words ("staff:member_role" → "member role")."""
    title = _page_titles.get(view_name)
    if title is None:
        name = view_name.rpartition(":")[2].replace("_", " ").strip()
        return name or "a page"
    try:
        return _formatter.vformat(title, (), dict(kwargs or {}))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        # The parameters were not kept: drop the placeholders, keep the words.
        words = [text for text, *_ in _formatter.parse(title)]
        return " ".join("".join(words).split())


# --- Targets: what an event is about, named for a reader --------------------------------------

# (agency id, target ids) -> {target id: name}
TargetNamer = Callable[[int, Iterable[str]], Mapping[str, str]]


@dataclass(frozen=True)
class _TargetType:
    namer: TargetNamer
    fallback: str


_target_namers: dict[str, _TargetType] = {}


def register_target_namer(target_type: str, namer: TargetNamer, *, fallback: str) -> None:
    """How to name the rows of ``target_type`` (a model's ``app_label.modelname``) in
    sentences: ``namer`` reads many at once for one agency; ``fallback`` names a row that is
    gone ("a request")."""
    _target_namers[target_type] = _TargetType(namer, fallback)


def target_types() -> dict[str, str]:
    """Every kind of row events can be about, with its name for a reader ("a request")."""
    return {name: known.fallback for name, known in sorted(_target_namers.items())}


def name_targets(agency_id: int, targets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Names for (target type, target id) pairs: one read per type."""
    by_type: dict[str, set[str]] = {}
    for target_type, target_id in targets:
        if target_type and target_id:
            by_type.setdefault(target_type, set()).add(target_id)
    names: dict[tuple[str, str], str] = {}
    for target_type, ids in by_type.items():
        known = _target_namers.get(target_type)
        found = known.namer(agency_id, sorted(ids)) if known is not None else {}
        for target_id in ids:
            name = found.get(target_id)
            if name is None:
                name = known.fallback if known is not None else "something"
            names[(target_type, target_id)] = name
    return names
