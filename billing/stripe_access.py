"""Tenant-scoped reads of the agency's Stripe connection, its Checkout sessions and the
webhook events it received. Views and tasks reach these rows only through here."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from accounts import policy
from accounts.models import Agency, User
from billing.models import CheckoutAttempt, Invoice, Payment, StripeAccount, WebhookEvent


def stripe_account(agency: Agency) -> StripeAccount | None:
    """The agency's connected Stripe account, if any (for the services and the webhook)."""
    return StripeAccount.objects.filter(agency=agency).first()


def stripe_account_for_settings(user: User | AnonymousUser, agency: Agency) -> StripeAccount | None:
    """The connection, for the admins' page (anyone else: 404)."""
    if not policy.can(user, agency, policy.BILLING_SETTINGS):
        raise Http404
    return stripe_account(agency)


def takes_cards(agency: Agency) -> bool:
    """Whether the agency's requesters can pay by card (its Stripe account is connected)."""
    return StripeAccount.objects.filter(agency=agency).exists()


def reusable_checkout(
    invoice: Invoice, amount_cents: int, fresh_until: datetime
) -> CheckoutAttempt | None:
    """An unpaid Checkout session of this invoice for this amount still open after
    ``fresh_until``: a second click on "Pay" reuses it."""
    return (
        CheckoutAttempt.objects.filter(
            agency=invoice.agency_id,
            invoice=invoice,
            amount_cents=amount_cents,
            completed_at__isnull=True,
            expires_at__gt=fresh_until,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def checkout_attempts_count(invoice: Invoice, amount_cents: int) -> int:
    return CheckoutAttempt.objects.filter(
        agency=invoice.agency_id, invoice=invoice, amount_cents=amount_cents
    ).count()


def checkout_for_return(agency: Agency, invoice_id: int, session_id: str) -> CheckoutAttempt:
    """The Checkout session a person comes back from (Stripe put its id in the address): the
    session id is the proof; another agency's or a made-up one answers 404."""
    found = (
        CheckoutAttempt.objects.filter(agency=agency, invoice_id=invoice_id, session_id=session_id)
        .select_related("invoice", "invoice__request", "invoice__agency")
        .first()
    )
    if found is None:
        raise Http404
    return found


def checkout_by_session(agency: Agency, session_id: str) -> CheckoutAttempt | None:
    if not session_id:
        return None
    return CheckoutAttempt.objects.filter(agency=agency, session_id=session_id).first()


def invoice_for_event(agency: Agency, invoice_id: str) -> Invoice | None:
    """The invoice a Stripe event's metadata names, in this agency only."""
    if not invoice_id.isdigit():
        return None
    return (
        Invoice.objects.filter(agency=agency, pk=int(invoice_id))
        .select_related("request", "agency")
        .first()
    )


def payment_of_intent(agency: Agency, payment_intent: str) -> Payment | None:
    if not payment_intent:
        return None
    return (
        Payment.objects.filter(agency=agency, stripe_payment_intent=payment_intent)
        .select_related("invoice", "invoice__request")
        .first()
    )


def webhook_event_for_task(agency_id: int, event_pk: int) -> WebhookEvent | None:
    return (
        WebhookEvent.objects.filter(agency_id=agency_id, pk=event_pk)
        .select_related("agency")
        .first()
    )


def unprocessed_webhook_events(agency: Agency, received_before: datetime) -> list[int]:
    """Events received before ``received_before`` and not processed yet (Stripe was not
    reachable, or the task was lost): retried by the sweep."""
    return list(
        WebhookEvent.objects.filter(
            agency=agency, processed_at__isnull=True, received_at__lt=received_before
        )
        .order_by("created", "pk")
        .values_list("pk", flat=True)[:200]
    )
