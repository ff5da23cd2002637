"""Reads of the audit log, always for one agency."""

from collections.abc import Iterable
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from audit import registry
from audit.models import AuditEvent


def events_for_agency(
    agency_id: int, *, action: str | None = None, actions: Iterable[str] | None = None
) -> QuerySet[AuditEvent]:
    """The agency's events, newest first: of one type (``action``), or of any of
    ``actions`` (a category's types)."""
    events = AuditEvent.objects.filter(agency_id=agency_id).order_by("-id")
    if action:
        events = events.filter(action=action)
    if actions is not None:
        events = events.filter(action__in=list(actions))
    return events


def events_of_grant(
    agency_id: int, grant_id: int, *, grant_type: str, limit: int = 1000
) -> list[AuditEvent]:
    """A support-access grant's whole life on the agency's chain, oldest first: the events
    about the grant (a row of ``grant_type``: asked, approved, ended...) and every event
    recorded under it (``acting_as_grant_id``)."""
    about = Q(target_type=grant_type, target_id=str(grant_id))
    return list(
        AuditEvent.objects.filter(agency_id=agency_id)
        .filter(Q(acting_as_grant_id=grant_id) | about)
        .order_by("id")[:limit]
    )


class DescribedEvent(TypedDict):
    event: AuditEvent
    actor: str
    sentence: str
    label: str
    category: str


def actor_names(actor_ids: Iterable[int]) -> dict[int, str]:
    ids = {pk for pk in actor_ids if pk}
    users = get_user_model().objects.in_bulk(ids) if ids else {}
    return {pk: str(user) for pk, user in users.items()}


def describe(events: Iterable[AuditEvent]) -> list[DescribedEvent]:
    """Events with a human sentence each, resolving actors in one query and the rows they
    are about in one query per kind of row."""
    events = list(events)
    actors = actor_names(e.actor_id for e in events if e.actor_id)
    targets: dict[tuple[str, str], str] = {}
    for agency_id in {e.agency_id for e in events if e.agency_id}:
        targets.update(
            registry.name_targets(
                agency_id,
                ((e.target_type, e.target_id) for e in events if e.agency_id == agency_id),
            )
        )
    return [describe_one(event, actors, targets) for event in events]


def describe_one(
    event: AuditEvent, actors: dict[int, str], targets: dict[tuple[str, str], str]
) -> DescribedEvent:
    if event.actor_id:
        actor = actors.get(event.actor_id, "a person no longer on record")
    else:
        actor = "The system" if _is_system(event) else "Someone"
    target = targets.get((event.target_type, event.target_id), "")
    details = event.details if isinstance(event.details, dict) else {}
    try:
        event_type = registry.get(event.action)
    except LookupError:
        return {
            "event": event,
            "actor": actor,
            "sentence": registry.describe_unknown(event.action, actor=actor),
            "label": registry.humanise_code(event.action),
            "category": registry.OTHER.label,
        }
    return {
        "event": event,
        "actor": actor,
        "sentence": _capitalised(event_type.describe(actor=actor, target=target, details=details)),
        "label": event_type.title,
        "category": event_type.category.label,
    }


def _is_system(event: AuditEvent) -> bool:
    """No person and no web request: a background job or a command did it."""
    return not event.request_id and not event.ip


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
