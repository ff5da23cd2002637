"""Reads of the audit log, always for one agency."""

from collections.abc import Iterable
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from audit import registry
from audit.models import AuditEvent


def events_for_agency(agency_id: int, *, action: str | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(agency_id=agency_id).order_by("-id")
    if action:
        events = events.filter(action=action)
    return events


class DescribedEvent(TypedDict):
    event: AuditEvent
    actor: str
    sentence: str


def describe(events: Iterable[AuditEvent]) -> list[DescribedEvent]:
    """Events with a human sentence each, resolving actors in one query."""
    events = list(events)
    actor_ids = {e.actor_id for e in events if e.actor_id}
    users = get_user_model().objects.in_bulk(actor_ids) if actor_ids else {}
    rows: list[DescribedEvent] = []
    for event in events:
        actor = str(users.get(event.actor_id, "")) or ("system" if not event.actor_id else "?")
        try:
            sentence = registry.get(event.action).describe(
                actor=actor, target=event.target_id, details=event.details
            )
        except LookupError:
            sentence = event.action
        rows.append({"event": event, "actor": actor, "sentence": sentence})
    return rows
