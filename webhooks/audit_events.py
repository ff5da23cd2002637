"""Audit event types of the outgoing webhooks (label, category and sentence of each) and the
titles of their pages for the audit log."""

from __future__ import annotations

from audit.registry import EventType, Sentence, category, register, register_page_titles

WEBHOOKS = category("webhooks", "Webhooks", 75)


def _event(code: str, template: Sentence, label: str) -> EventType:
    return register(code, template, label=label, category=WEBHOOKS)


ENDPOINT_CREATED = _event(
    "webhook.endpoint_created",
    "{actor} added the webhook address {url} for {events}",
    "Added a webhook address",
)
ENDPOINT_ACTIVE = _event(
    "webhook.endpoint_active",
    lambda c: (
        f"{c['actor']} {'turned on' if c.get('active') else 'turned off'} the webhook "
        f"address {c['url']}"
    ),
    "Turned a webhook address on or off",
)
ENDPOINT_DELETED = _event(
    "webhook.endpoint_deleted",
    "{actor} removed the webhook address {url}",
    "Removed a webhook address",
)
SECRET_ROTATED = _event(
    "webhook.secret_rotated",
    "{actor} replaced the signing secret of the webhook address {url}",
    "Replaced a webhook signing secret",
)
DELIVERY_RESENT = _event(
    "webhook.delivery_resent",
    "{actor} sent the {kind} event {event_id} again to {url}",
    "Sent a webhook again",
)
DELIVERY_FAILED = _event(
    "webhook.delivery_failed",
    "The {kind} event {event_id} could not be delivered to {url} after {attempts} tries",
    "A webhook could not be delivered",
)
register_page_titles(
    {
        "staff:webhook_list": "the webhooks",
        "staff:webhook_new": "the form to add a webhook address",
        "staff:webhook_detail": "the delivery log of webhook address {endpoint_id}",
        "staff:webhook_active": "the form to turn webhook address {endpoint_id} on or off",
        "staff:webhook_delete": "the form to remove webhook address {endpoint_id}",
        "staff:webhook_rotate": "the form to replace the secret of webhook address {endpoint_id}",
        "staff:webhook_resend": "the form to send webhook delivery {delivery_id} again",
    }
)
