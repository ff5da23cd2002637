"""Billing for the demo agency (after ``seed_demo``; ``make run`` runs both): Springfield gets
a fee schedule and a few fees, and, when ``STRIPE_API_BASE`` points at the local Stripe
(``python -m tests.stripe_server``, which ``make run`` starts on 127.0.0.1:12111), a test
account there connected as Springfield's Stripe, its webhooks sent to Springfield's
``/billing/stripe/webhook/``. Safe to run again: it adds what is missing; the local Stripe
forgets its accounts when it stops, so the account is registered there again each time."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.error import URLError

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from accounts.models import Agency, Membership, Role
from accounts.tenancy import agency_context, agency_origin
from billing import access, stripe_access
from billing.errors import BillingError
from billing.models import FeeItem
from billing.services import connect, fees

SLUG = "springfield"
DEMO_API_KEY = "rk_test_springfield_demo_key"
DEMO_ACCOUNT = "acct_springfield_demo"
DEMO_WEBHOOK_SECRET = "whsec_springfield_demo_signing_secret"  # noqa: S105  # nosec B105  # the local test Stripe only
SCHEDULE = fees.Schedule(
    currency="usd",
    paper_page_cents=25,
    electronic_page_cents=10,
    free_pages=20,
    default_hourly_cents=3_500,
    free_minutes=60,
    minimum_invoice_cents=500,
    default_deposit_bps=0,
)
ITEMS = [("USB drive", FeeItem.Kind.MEDIA, 800), ("Certified copy", FeeItem.Kind.FIXED, 500)]


class Command(BaseCommand):
    help = "Give the demo agency fees and connect it to the local Stripe when it runs."

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=SLUG).first()
        if agency is None:
            self.stdout.write("No demo agency: run seed_demo first.")
            return
        with agency_context(agency):
            admin = (
                Membership.objects.filter(agency=agency, role=Role.ADMIN)
                .select_related("user")
                .first()
            )
            if admin is None:
                return
            if access.fee_schedule(agency).pk is None:
                fees.fee_schedule_save(agency=agency, actor=admin.user, values=SCHEDULE)
                for name, kind, cents in ITEMS:
                    fees.fee_item_add(
                        agency=agency, actor=admin.user, name=name, kind=kind, unit_cents=cents
                    )
                self.stdout.write("Springfield: fee schedule and fees added.")
            self._connect_local_stripe(agency, admin.user)

    def _connect_local_stripe(self, agency: Agency, actor: Any) -> None:
        base = settings.STRIPE_API_BASE
        if not base:
            self.stdout.write(
                "Stripe: STRIPE_API_BASE is not set, so the demo is not connected to a local "
                "Stripe. Start one (python -m tests.stripe_server) and set "
                "STRIPE_API_BASE=http://127.0.0.1:12111, or connect a test-mode key of your "
                "own under Staff, Card payments."
            )
            return
        webhook_url = agency_origin(agency) + reverse("billing:stripe_webhook")
        try:
            _control(
                base,
                "/_control/accounts",
                {
                    "api_key": DEMO_API_KEY,
                    "account_id": DEMO_ACCOUNT,
                    "display_name": agency.name,
                    "webhook_url": webhook_url,
                    "webhook_secret": DEMO_WEBHOOK_SECRET,
                },
            )
        except (URLError, OSError, ValueError) as error:
            self.stdout.write(f"Stripe: the local Stripe at {base} did not answer ({error}).")
            return
        current = stripe_access.stripe_account(agency)
        if current is not None and current.account_id == DEMO_ACCOUNT:
            self.stdout.write(f"Stripe: Springfield is connected to the local Stripe ({base}).")
            return
        if current is not None:
            return  # the demo's admin connected another account: keep it
        try:
            connect.stripe_connect(
                agency=agency,
                actor=actor,
                api_key=DEMO_API_KEY,
                webhook_secret=DEMO_WEBHOOK_SECRET,
            )
        except BillingError as error:
            self.stdout.write(f"Stripe: could not connect the demo account: {error}")
            return
        self.stdout.write(
            f"Stripe: Springfield connected to the local Stripe ({base}); test card "
            "4242 4242 4242 4242, any future expiry, any CVC."
        )


def _control(base: str, path: str, data: dict[str, str]) -> Any:
    request = urllib.request.Request(  # noqa: S310  # nosec B310  # the local Stripe address
        base.rstrip("/") + path,
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    # STRIPE_API_BASE, an http(s) address the operator set for the local Stripe (demo only).
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310  # the local Stripe address
        return json.loads(response.read())
