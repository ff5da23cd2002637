"""The demo: after seed_demo, seed_billing_demo gives Springfield fees and connects it to the
local Stripe (what ``make run`` starts), again and again without change; without a local
Stripe it says how to get one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Agency
from accounts.tenancy import agency_context
from billing import access, stripe_access

pytestmark = pytest.mark.django_db


def test_the_demo_agency_gets_fees_and_the_local_stripe(local_stripe):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_billing_demo", stdout=out)
    call_command("seed_billing_demo", stdout=out)
    springfield = Agency.objects.get(slug="springfield")
    with agency_context(springfield):
        assert access.fee_schedule(springfield).paper_page_cents == 25
        account = stripe_access.stripe_account(springfield)
    assert account is not None and account.account_id == "acct_springfield_demo"
    assert "4242 4242 4242 4242" in out.getvalue()
    [registered] = [
        a for a in local_stripe.server.store.accounts.values() if a.id == "acct_springfield_demo"
    ]
    assert registered.webhook_url == "http://springfield.localhost:8000/billing/stripe/webhook/"


def test_without_a_local_stripe_it_says_how_to_start_one(settings):
    settings.STRIPE_API_BASE = None
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_billing_demo", stdout=out)
    assert "python -m tests.stripe_server" in out.getvalue()
