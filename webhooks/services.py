"""Changes to the agency's webhook addresses, the deliveries written as facts are recorded,
and each try of a delivery. Each change is one transaction with its audit event."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from accounts.tenancy import lock_tenant_row
from audit.models import AuditEvent
from vault import keyring
from webhooks import access, events, jobs, payloads, sender, signing, targets
from webhooks import audit_events as webhook_events
from webhooks.models import DeliveryState, EventType, WebhookDelivery, WebhookEndpoint

MAX_ATTEMPTS = 8
# Wait after the n-th failed try (n = 1..7), before jitter: about 22 hours in all.
BACKOFF_SECONDS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
JITTER = 0.2


class WebhookError(ValueError):
    """A change refused; the message is for the admin."""


def _seal(endpoint: WebhookEndpoint, secret: str) -> bytes:
    return keyring.seal(secret.encode("utf-8"), aad=endpoint.secret_aad())


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The address's signing secret (opened for signing; never shown again)."""
    return keyring.open_sealed(bytes(endpoint.sealed_secret), aad=endpoint.secret_aad()).decode()


def _clean_events(chosen: list[str]) -> list[str]:
    known = [value for value in EventType.values if value in chosen]
    if not known or len(known) != len(set(chosen)):
        raise WebhookError("Choose at least one of the listed events.")
    return known


def endpoint_create(
    *,
    agency: Agency,
    actor: User,
    url: str,
    chosen_events: list[str],
    description: str = "",
    http_request: HttpRequest | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new address, and its signing secret (returned once, to show once)."""
    try:
        url = targets.check_url(url)
    except targets.UnsafeTarget as error:
        raise WebhookError(str(error)) from None
    chosen = _clean_events(chosen_events)
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            agency=agency,
            url=url,
            description=description.strip()[:200],
            events=chosen,
            sealed_secret=b"",
            created_by=actor,
        )
        endpoint.sealed_secret = _seal(endpoint, secret)
        endpoint.save(update_fields=["sealed_secret"])
        audit.record_for(
            webhook_events.ENDPOINT_CREATED,
            endpoint,
            actor=actor,
            http_request=http_request,
            url=url,
            events=", ".join(chosen),
        )
    return endpoint, secret


def endpoint_set_active(
    *,
    endpoint: WebhookEndpoint,
    active: bool,
    actor: User,
    http_request: HttpRequest | None = None,
) -> None:
    with transaction.atomic():
        endpoint = lock_tenant_row(endpoint)
        if endpoint.is_active == active:
            return
        endpoint.is_active = active
        endpoint.save(update_fields=["is_active"])
        audit.record_for(
            webhook_events.ENDPOINT_ACTIVE,
            endpoint,
            actor=actor,
            http_request=http_request,
            url=endpoint.url,
            active=active,
        )


def endpoint_delete(
    *, endpoint: WebhookEndpoint, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Remove the address and its delivery log (the audit log keeps the event)."""
    with transaction.atomic():
        endpoint = lock_tenant_row(endpoint)
        audit.record_for(
            webhook_events.ENDPOINT_DELETED,
            endpoint,
            actor=actor,
            http_request=http_request,
            url=endpoint.url,
        )
        WebhookDelivery.objects.filter(agency=endpoint.agency_id, endpoint=endpoint).delete()
        endpoint.delete()


def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User, http_request: HttpRequest | None = None
) -> str:
    """A new signing secret at once (returned once, to show once); the old one stops."""
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint = lock_tenant_row(endpoint)
        endpoint.sealed_secret = _seal(endpoint, secret)
        endpoint.secret_rotated_at = timezone.now()
        endpoint.save(update_fields=["sealed_secret", "secret_rotated_at"])
        audit.record_for(
            webhook_events.SECRET_ROTATED,
            endpoint,
            actor=actor,
            http_request=http_request,
            url=endpoint.url,
        )
    return secret


def delivery_resend(
    *, delivery: WebhookDelivery, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Try a delivery again now, with the same event id (a receiver that already has it can
    tell), and a fresh run of tries if it had failed."""
    with transaction.atomic():
        delivery = lock_tenant_row(delivery)
        if not delivery.endpoint.is_active:
            raise WebhookError("Turn the address on before sending to it again.")
        delivery.state = DeliveryState.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["state", "attempts", "next_attempt_at"])
        audit.record_for(
            webhook_events.DELIVERY_RESENT,
            delivery,
            actor=actor,
            http_request=http_request,
            url=delivery.endpoint.url,
            kind=delivery.event,
            event_id=str(delivery.event_id),
        )
        jobs.deliver(delivery)


def deliveries_record(event: AuditEvent, target: Model | None) -> None:
    """The audit log's listener (webhooks.events): the deliveries of the fact just recorded,
    written in its transaction and sent once it commits."""
    if event.agency_id is None:
        return
    fact = events.fact_of(event.action, target, dict(event.details or {}))
    if fact is None:
        return
    endpoints = access.endpoints_listening(event.agency_id, fact.event)
    if not endpoints:
        return
    slug = Agency.objects.filter(pk=event.agency_id).values_list("slug", flat=True).first() or ""
    now = timezone.now()
    data = fact.data()
    for endpoint in endpoints:
        waiting = None
        if fact.event == EventType.REQUEST_UPDATED:
            waiting = access.unsent_delivery(endpoint, fact.event, fact.object_type, fact.object_id)
        if waiting is None and fact.event == EventType.REQUEST_UPDATED:
            # A request filed in this same transaction (routed as it is filed): its
            # "created" event already says all of it.
            created = access.unsent_delivery(
                endpoint, EventType.REQUEST_CREATED, fact.object_type, fact.object_id
            )
            if created is not None:
                created.payload["data"] = data
                created.save(update_fields=["payload"])
                continue
        if waiting is not None:
            waiting.payload["data"] = data
            waiting.save(update_fields=["payload"])
            continue
        delivery = WebhookDelivery(
            agency_id=event.agency_id,
            endpoint=endpoint,
            event=fact.event,
            object_type=fact.object_type,
            object_id=fact.object_id,
            created_at=now,
            next_attempt_at=now,
        )
        delivery.payload = payloads.envelope(
            event_id=str(delivery.event_id),
            event=fact.event,
            agency_slug=slug,
            at=now,
            data=data,
        )
        delivery.save()
        jobs.deliver(delivery)


def body_of(delivery: WebhookDelivery) -> bytes:
    """The bytes sent, the same on every try."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after ``attempts`` failed tries, with ±20 % jitter."""
    base = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    spread = (rng or random.SystemRandom()).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=base * spread)


def delivery_attempt(*, agency_id: int, delivery_id: int, now: datetime | None = None) -> str:
    """One try of one delivery, under its row lock (two workers never send it at once: the
    second skips it); what happened, in a word."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "agency")
            .filter(agency=agency_id, pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "busy or gone"
        if delivery.state != DeliveryState.PENDING:
            return delivery.state
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not due"
        endpoint = delivery.endpoint
        if not endpoint.is_active:
            return "address turned off"
        answer = _send(delivery, endpoint, now)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = answer.status_code
        delivery.last_error = answer.error[:300]
        delivery.last_response_ms = answer.elapsed_ms
        if answer.ok:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
            audit.record_for(
                webhook_events.DELIVERY_FAILED,
                delivery,
                url=endpoint.url,
                kind=delivery.event,
                event_id=str(delivery.event_id),
                attempts=delivery.attempts,
            )
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save()
        return delivery.state


def _send(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime) -> sender.Answer:
    try:
        target = targets.resolve(endpoint.url)
    except targets.UnsafeTarget as error:
        return sender.Answer(None, str(error), 0)
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    headers: dict[str, Any] = {
        signing.SIGNATURE_HEADER: signing.header(endpoint_secret(endpoint), timestamp, body),
        signing.EVENT_ID_HEADER: str(delivery.event_id),
        signing.EVENT_TYPE_HEADER: delivery.event,
    }
    return sender.post(target, body, headers)


def deliveries_send_due(*, agency: Agency, now: datetime | None = None) -> int:
    """Try every delivery of the agency whose next try is due (beat, every minute); how many
    were tried."""
    now = now or timezone.now()
    due = access.due_deliveries(agency, now)
    for delivery_id in due:
        delivery_attempt(agency_id=agency.pk, delivery_id=delivery_id, now=now)
    return len(due)
