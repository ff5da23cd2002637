"""Builders of the Stripe tests: a sent invoice on a request (paused for payment, records
held, as sending does), the agency connected to an account of the local Stripe, and Stripe's
events delivered to the portal's webhook as Stripe sends them (the exact signed body)."""

from __future__ import annotations

import itertools
import json
import time

from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import agency_context
from billing.models import Invoice, InvoiceStatus, Payment, StripeAccount
from billing.services import connect
from billing.services.common import hold_reason, pause_reason
from requests_portal.models import RecordsRequest
from requests_portal.services import clock, holds
from tests.requests_portal.helpers import file_request
from tests.stripe_server.fixtures import StripeTestAccount, new_stripe_account

_numbers = itertools.count(1)


def request_of(tenant, *, requester=None):
    return file_request(tenant, requester=requester or tenant.requester)


def sent_invoice(
    tenant,
    records_request: RecordsRequest | None = None,
    *,
    total: int = 4_250,
    deposit: int = 0,
    status: str = InvoiceStatus.SENT,
    pause: bool = True,
    currency: str = "usd",
) -> Invoice:
    """An invoice as sending leaves it: its request paused for payment and its records held
    (when ``pause``)."""
    records_request = records_request or request_of(tenant)
    with agency_context(tenant.agency):
        invoice = Invoice.objects.create(
            agency=tenant.agency,
            request=records_request,
            year=timezone.now().year,
            sequence=next(_numbers) + int(time.time()) % 100_000,
            status=status,
            currency=currency,
            subtotal_cents=total,
            total_cents=total,
            deposit_cents=deposit,
            paused_clock=pause,
            sent_at=timezone.now() if status != InvoiceStatus.DRAFT else None,
        )
        if pause:
            fresh = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
            clock.request_pause(
                records_request=fresh, actor=tenant.publisher, reason=pause_reason(invoice)
            )
            fresh = RecordsRequest.objects.select_for_update().get(pk=records_request.pk)
            holds.hold_release(records_request=fresh, actor=None, reason=hold_reason(invoice))
    return invoice


def connect_stripe(tenant, server, *, name: str = "Alpha Clerk's Office") -> StripeTestAccount:
    """A fresh account on the local Stripe, connected by the agency's admin."""
    account = new_stripe_account(server, name=name)
    with agency_context(tenant.agency):
        connect.stripe_connect(
            agency=tenant.agency,
            actor=tenant.admin,
            api_key=account.api_key,
            webhook_secret=account.webhook_secret,
        )
    return account


def reload(tenant, obj):
    with agency_context(tenant.agency):
        obj.refresh_from_db()
    return obj


def payments_of(tenant, invoice) -> list[Payment]:
    with agency_context(tenant.agency):
        return list(Payment.objects.filter(agency=tenant.agency, invoice=invoice))


def stripe_account_of(tenant) -> StripeAccount | None:
    with agency_context(tenant.agency):
        return StripeAccount.objects.filter(agency=tenant.agency).first()


def webhook_url() -> str:
    return reverse("billing:stripe_webhook")


def post_event(client, payload: str, signature: str):
    """Post a body to the webhook exactly as Stripe does (JSON, Stripe-Signature header)."""
    return client.post(
        webhook_url(),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def deliver(client, server, account: StripeTestAccount, event: dict, *, timestamp=None):
    """Deliver one event the local Stripe made, signed by it (now, or at ``timestamp``)."""
    header = server.sign(account.account_id, event["payload"], timestamp)
    return post_event(client, event["payload"], header)


def events_of(server, account: StripeTestAccount, kind: str) -> list[dict]:
    return server.events(account.account_id, kind)


def start_checkout(client, invoice, *, tracking: str = ""):
    url = reverse("billing:invoice_pay", args=[invoice.pk])
    return client.post(url + (f"?t={tracking}" if tracking else ""))


def edited(payload: str, **changes) -> str:
    """The event's body with top-level ``changes`` (for forged or misdirected events)."""
    body = json.loads(payload)
    body.update(changes)
    return json.dumps(body)
