"""The audit log's public API: ``audit.record(...)``, and ``audit.record_for(...)`` for the
common case of an event about one agency's row.

Call it inside the transaction of the change it records (services do), so the event and the
change commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest

    from audit.models import AuditEvent
    from audit.registry import EventType


class Identified(Protocol):
    """An agency or actor passed as an object: a model instance (or the anonymous user,
    whose pk is None)."""

    @property
    def pk(self) -> object: ...


def _id_of(value: object) -> Any:
    """``value.pk`` for a model instance, else the value itself (already an id, or None).
    Any, as django-stubs types every model's pk."""
    return getattr(value, "pk", value)


# Who hears of an event as it is recorded: action code → listeners (``on_record``).
Listener = Callable[["AuditEvent", "Model | None"], None]
_listeners: dict[str, list[Listener]] = {}


def on_record(actions: Iterable[str], listener: Listener) -> None:
    """Call ``listener(event, target)`` each time an event with one of these action codes is
    recorded, right after it is written: inside the transaction of the change it records, so
    what the listener writes commits or rolls back with the change. For an app above the one
    that records the event (the outgoing webhooks), from its ``AppConfig.ready``; a listener
    that raises makes the change fail, so it must only write rows of its own."""
    for action in actions:
        known = _listeners.setdefault(action, [])
        if listener not in known:
            known.append(listener)


# (grant id, agency id) of the support-access grant the current request acts under.
_acting_as: ContextVar[tuple[int, int] | None] = ContextVar("audit_acting_as", default=None)


@contextmanager
def acting_as_grant(grant_id: int, *, agency_id: int) -> Iterator[None]:
    """Inside the block, every event recorded on ``agency_id``'s chain carries
    ``acting_as_grant_id=grant_id``: set around a request made under support access
    (accounts.support.middleware), so no view or service can forget it. The field is part
    of the hashed content (audit.chain), so it cannot be stripped unseen."""
    token = _acting_as.set((int(grant_id), int(agency_id)))
    try:
        yield
    finally:
        _acting_as.reset(token)


def current_grant(agency_id: object) -> int | None:
    """The grant the current block acts under on this agency's chain, if any."""
    current = _acting_as.get()
    if current is None or agency_id is None or current[1] != agency_id:
        return None
    return current[0]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind Heroku's router the last X-Forwarded-For entry is the one
    the router added; entries before it are whatever the client claimed."""
    from django.conf import settings

    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    if hops:
        forwarded: list[str] = [
            p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    address: str | None = request.META.get("REMOTE_ADDR")
    return address


def record(
    action: str,
    *,
    http_request: HttpRequest | None = None,
    agency: Identified | int | None = None,
    actor: Identified | int | None = None,
    target: Model | None = None,
    details: Mapping[str, object] | None = None,
    acting_as_grant_id: int | None = None,
) -> AuditEvent:
    """Append an event to its agency's chain.

    ``agency`` and ``actor`` default to those of ``http_request`` (the HTTP request, when
    there is one; its client address, user agent and request id are kept too). ``target`` is
    a model instance (its type and primary key are stored). ``acting_as_grant_id`` defaults
    to the support grant the block runs under (``acting_as_grant``). Returns the saved
    AuditEvent.
    """
    from audit.chain import append

    request = http_request
    if agency is None and request is not None:
        agency = getattr(request, "agency", None)
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if acting_as_grant_id is None:
        acting_as_grant_id = current_grant(_id_of(agency))
    target_type = target_id = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
    event = append(
        action,
        agency_id=_id_of(agency),
        actor_id=_id_of(actor),
        target_type=target_type,
        target_id=target_id,
        details=details,
        ip=client_ip(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "") if request is not None else "",
        request_id=getattr(request, "request_id", "") if request is not None else "",
        acting_as_grant_id=acting_as_grant_id,
    )
    for listener in _listeners.get(action, ()):
        listener(event, target)
    return event


def record_for(
    event: EventType,
    target: Model,
    *,
    actor: Identified | int | None = None,
    http_request: HttpRequest | None = None,
    **details: object,
) -> AuditEvent:
    """The usual event of a service: ``event`` happened to ``target``, a row of one agency
    (the event goes on that agency's chain), done by ``actor``; ``details`` as keywords."""
    agency_id = getattr(target, "agency_id", None)
    if agency_id is None:
        raise ValueError(f"{target._meta.label} belongs to no agency: use audit.record(...)")
    return record(
        event.code,
        http_request=http_request,
        agency=agency_id,
        actor=actor,
        target=target,
        details=details,
    )
