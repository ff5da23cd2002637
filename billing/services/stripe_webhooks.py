"""Stripe's webhook events: stored once each (the event id is unique), then processed in a
task, idempotently and in any order.

- ``checkout.session.completed`` (and ``checkout.session.async_payment_succeeded``) and
  ``payment_intent.succeeded`` record the payment, with the amount and currency Stripe
  signed, on the invoice named in the metadata the portal gave the session. Whichever comes
  first records it; the other finds it done (one payment per PaymentIntent).
- ``charge.refunded`` and ``refund.created`` / ``refund.updated`` record every refund Stripe
  lists for the PaymentIntent (once each, by refund id). When the refund comes before the
  payment's own event, the payment is first recorded from the PaymentIntent Stripe returns.
- Anything else is stored and marked ignored.

The invoice only moves forward (billing.services.payments), so a late or repeated event
changes nothing. A payment Stripe took that cannot be recorded (the invoice was voided or
paid offline meanwhile) is marked on the event and in the audit log for staff to refund.
When Stripe does not answer, the event stays unprocessed and the sweep tries it again.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency
from billing import jobs, stripe_access, stripe_events, stripe_gateway
from billing.errors import BillingError
from billing.models import Invoice, Payment, PaymentMethod, StripeAccount, WebhookEvent
from billing.services.checkout import apply_paid_session
from billing.services.connect import api_key_of
from billing.services.payments import record_payment, record_refund
from billing.webhooks import VerifiedEvent

PAYMENT_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
}
REFUND_EVENTS = {"charge.refunded", "refund.created", "refund.updated"}


def webhook_receive(
    *, agency: Agency, event: VerifiedEvent, http_request: HttpRequest | None = None
) -> tuple[WebhookEvent, bool]:
    """Store a verified event once and queue its processing; (row, False) for an event
    already received (nothing is queued again)."""
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                agency=agency,
                event_id=event.id,
                event_type=event.type,
                account_id=event.account,
                created=event.created,
                payload=event.payload,
            )
    except IntegrityError:
        found = WebhookEvent.objects.filter(agency=agency, event_id=event.id).first()
        if found is None:
            raise
        return found, False
    jobs.process_webhook_event(row)
    return row, True


def webhook_refused(
    *, agency: Agency, event_type: str, reason: str, http_request: HttpRequest | None = None
) -> None:
    """A delivery signed with the agency's secret but refused (another account or agency):
    noted in the audit log."""
    audit.record(
        stripe_events.WEBHOOK_REFUSED.code,
        agency=agency,
        http_request=http_request,
        details={"type": event_type[:100], "reason": reason[:300]},
    )


def webhook_process(*, event: WebhookEvent) -> str:
    """Apply one stored event (see the module's docstring); returns and keeps its outcome.
    An event already processed is left as it is."""
    if event.processed_at is not None:
        return event.outcome
    account = stripe_access.stripe_account(event.agency)
    if account is None:
        outcome = "ignored: Stripe is no longer connected"
    else:
        obj = (event.payload.get("data") or {}).get("object") or {}
        try:
            if event.event_type in PAYMENT_EVENTS:
                outcome = _payment_event(event, account, obj)
            elif event.event_type in REFUND_EVENTS:
                outcome = _refund_event(event, account, obj)
            else:
                outcome = "ignored"
        except stripe_gateway.StripeUnavailable:
            # Left unprocessed: the sweep (billing.tasks.retry_webhook_events) tries again.
            WebhookEvent.objects.filter(agency=event.agency_id, pk=event.pk).update(
                outcome="waiting: Stripe did not answer"
            )
            return "waiting"
    WebhookEvent.objects.filter(agency=event.agency_id, pk=event.pk).update(
        processed_at=timezone.now(), outcome=outcome[:200]
    )
    event.outcome = outcome[:200]
    return outcome


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _cents(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _portal_payment(obj: dict[str, Any]) -> bool:
    """Whether the portal opened this payment (its metadata names an invoice): the agency's
    Stripe account may take other payments the portal has nothing to do with."""
    metadata = obj.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("invoice_id"))


def _invoice_named(event: WebhookEvent, obj: dict[str, Any]) -> Invoice | None:
    metadata = obj.get("metadata")
    invoice_id = metadata.get("invoice_id", "") if isinstance(metadata, dict) else ""
    return stripe_access.invoice_for_event(event.agency, str(invoice_id))


def _unapplied(event: WebhookEvent, invoice: Invoice | None, amount: int, reason: str) -> str:
    details: dict[str, object] = {
        "invoice": invoice.pk if invoice else "",
        "number": invoice.number if invoice else "",
        "amount_cents": amount,
        "currency": invoice.currency if invoice else "",
        "reason": reason[:300],
        "stripe_event": event.event_id,
    }
    audit.record(
        stripe_events.WEBHOOK_UNAPPLIED.code,
        agency=event.agency_id,
        target=invoice,
        details=details,
    )
    return f"not recorded: {reason}"


def _payment_event(event: WebhookEvent, account: StripeAccount, obj: dict[str, Any]) -> str:
    if event.event_type.startswith("checkout.session."):
        if obj.get("payment_status") != "paid":
            return "ignored: not paid yet"
        session = stripe_gateway.CheckoutSession(
            id=_text(obj, "id"),
            url="",
            status=_text(obj, "status"),
            payment_status="paid",
            payment_intent=_text(obj, "payment_intent"),
            amount_total=_cents(obj, "amount_total"),
            currency=_text(obj, "currency"),
            expires_at=0,
        )
        if not _portal_payment(obj):
            return "ignored: not a payment the portal asked for"
        invoice = _invoice_named(event, obj)
        if invoice is None:
            return _unapplied(event, None, session.amount_total, "no invoice of this agency")
        try:
            payment = apply_paid_session(invoice, session)
        except BillingError as error:
            return _unapplied(event, invoice, session.amount_total, str(error))
        return f"payment {payment.pk} recorded"
    if _text(obj, "status") != "succeeded":
        return "ignored: not succeeded"
    return _record_intent(
        event,
        intent_id=_text(obj, "id"),
        amount=_cents(obj, "amount_received"),
        currency=_text(obj, "currency"),
        obj=obj,
    )


def _record_intent(
    event: WebhookEvent, *, intent_id: str, amount: int, currency: str, obj: dict[str, Any]
) -> str:
    if not _portal_payment(obj):
        return "ignored: not a payment the portal asked for"
    invoice = _invoice_named(event, obj)
    if invoice is None:
        return _unapplied(event, None, amount, "no invoice of this agency")
    if currency != invoice.currency:
        return _unapplied(event, invoice, amount, f"paid in {currency.upper() or '?'}")
    try:
        with transaction.atomic():
            payment = record_payment(
                invoice=invoice,
                amount_cents=amount,
                method=PaymentMethod.CARD,
                reference=intent_id[-120:],
                stripe_payment_intent=intent_id,
                actor=None,
            )
    except BillingError as error:
        return _unapplied(event, invoice, amount, str(error))
    return f"payment {payment.pk} recorded"


def _payment_for_refund(
    event: WebhookEvent, account: StripeAccount, intent_id: str
) -> Payment | None:
    """The payment of ``intent_id``; recorded first from Stripe's PaymentIntent when the
    refund's event came before the payment's."""
    payment = stripe_access.payment_of_intent(event.agency, intent_id)
    if payment is not None:
        return payment
    intent = stripe_gateway.retrieve_payment_intent(api_key_of(account), intent_id)
    if intent.status != "succeeded":
        return None
    _record_intent(
        event,
        intent_id=intent.id,
        amount=intent.amount_received,
        currency=intent.currency,
        obj={"metadata": intent.metadata},
    )
    return stripe_access.payment_of_intent(event.agency, intent_id)


def _refund_event(event: WebhookEvent, account: StripeAccount, obj: dict[str, Any]) -> str:
    intent_id = _text(obj, "payment_intent")
    if not intent_id:
        return "ignored: no PaymentIntent"
    payment = _payment_for_refund(event, account, intent_id)
    if payment is None:
        return "ignored: no payment of this agency"
    refunds = stripe_gateway.list_refunds(api_key_of(account), intent_id)
    recorded = 0
    for refund in sorted(refunds, key=lambda r: r.id):
        if refund.status != "succeeded" or refund.amount <= 0:
            continue
        try:
            with transaction.atomic():
                record_refund(
                    payment=payment,
                    amount_cents=refund.amount,
                    reason=refund.reason or "Refunded in Stripe",
                    stripe_refund=refund.id,
                    actor=None,
                )
            recorded += 1
        except BillingError as error:
            _unapplied(event, payment.invoice, refund.amount, f"refund {refund.id}: {error}")
        payment.refresh_from_db()
    return f"refunds checked ({recorded} recorded or already known)"
