"""The registry of audit event types: a unique code and a human sentence for each.

Apps register their events at import time (e.g. accounts/audit_events.py). Recording an
unregistered code raises, so a typo cannot write an event nobody can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    code: str
    template: str  # str.format() over the event's details plus "actor" and "target"

    def describe(self, *, actor: str, target: str, details: Mapping[str, object]) -> str:
        try:
            return self.template.format(actor=actor, target=target, **details)
        except (KeyError, IndexError, ValueError, TypeError):
            return f"{self.code} by {actor}"


_registry: dict[str, EventType] = {}


def register(code: str, template: str) -> EventType:
    if code in _registry:
        raise ValueError(f"Audit event type {code!r} is already registered.")
    if not code or len(code) > 80 or code != code.strip().lower():
        raise ValueError(f"Audit event code {code!r} must be lower-case, 1-80 characters.")
    event_type = EventType(code, template)
    _registry[code] = event_type
    return event_type


def get(code: str) -> EventType:
    try:
        return _registry[code]
    except KeyError:
        raise LookupError(f"Unknown audit event type {code!r}: register it first.") from None


def all_event_types() -> list[EventType]:
    return sorted(_registry.values(), key=lambda e: e.code)
