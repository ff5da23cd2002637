"""Which facts other apps record become which webhook events.

The apps below never import this one: each records its facts in the audit log
(``audit.record``) inside the transaction of the change, and this module's listener
(``audit.on_record``, registered by ``WebhooksConfig.ready``) turns the facts an agency's
systems care about into delivery rows in that same transaction. A change that rolls back
leaves no delivery; one that commits always has its deliveries, sent once it commits.

- request.submitted → request.created;
- request.acknowledged, .routed, .paused, .due_date_changed (extended, resumed, moved),
  .reopened, .visibility_changed, .description_released → request.updated (a burst of
  updates not sent yet is one delivery, with the latest state);
- request.closed → request.closed;
- document.released to the requester or the public (not back to staff only) →
  document.released;
- billing.payment_recorded that leaves the invoice paid in full → invoice.paid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from billing.models import Invoice, InvoiceStatus
from documents.models import Document, ReleaseLevel
from requests_portal.models import RecordsRequest
from webhooks import payloads
from webhooks.models import EventType

REQUEST_UPDATES = frozenset(
    {
        "request.acknowledged",
        "request.routed",
        "request.paused",
        "request.due_date_changed",
        "request.reopened",
        "request.visibility_changed",
        "request.description_released",
    }
)
AUDIT_CODES = frozenset(
    {
        "request.submitted",
        "request.closed",
        "document.released",
        "billing.payment_recorded",
        *REQUEST_UPDATES,
    }
)


@dataclass(frozen=True)
class Fact:
    """A webhook event about one object; ``data()`` builds what its payload says of the
    object (only once an address wants it: most agencies have none)."""

    event: str
    object_type: str
    object_id: int
    data: Callable[[], dict[str, Any]]


def fact_of(action: str, target: Model | None, details: dict[str, Any]) -> Fact | None:
    """The webhook event an audit event amounts to, if any."""
    if isinstance(target, RecordsRequest):
        if action == "request.submitted":
            event = EventType.REQUEST_CREATED
        elif action == "request.closed":
            event = EventType.REQUEST_CLOSED
        elif action in REQUEST_UPDATES:
            event = EventType.REQUEST_UPDATED
        else:
            return None
        request = target
        return Fact(event, "request", request.pk, lambda: payloads.request_data(request))
    if isinstance(target, Document) and action == "document.released":
        if target.release == ReleaseLevel.STAFF or details.get("from") == target.release:
            return None
        document = target
        return Fact(
            EventType.DOCUMENT_RELEASED,
            "document",
            document.pk,
            lambda: payloads.document_data(document),
        )
    if isinstance(target, Invoice) and action == "billing.payment_recorded":
        if target.status != InvoiceStatus.PAID:
            return None
        invoice = target
        return Fact(
            EventType.INVOICE_PAID, "invoice", invoice.pk, lambda: payloads.invoice_data(invoice)
        )
    return None
