"""A requester pays an invoice in a real browser against the local Stripe (issue 12, "done
when"): the publisher sends an invoice (the clock pauses), the requester opens the request
page, clicks "Pay", types a test card on Stripe's hosted page (a declined card first), comes
back to "Thank you", and the invoice is paid: marked by the signed webhook the local Stripe
delivered to the live portal, the clock running again and the records no longer held.

Chromium (Debian's) driven by Playwright; the portal in a live server thread; the local
Stripe in a thread of its own (tests/stripe_server), delivering webhooks over HTTP. One of
issue 16's journeys: every page on the way is checked (tests/browser/journey.py: axe-core, a
visible focus, a screenshot), the local Stripe's card page too."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from billing.models import Invoice, InvoiceStatus, LineKind, WebhookEvent
from billing.services import invoices, sending
from billing.services.connect import stripe_connect
from requests_portal.models import RecordsRequest
from requests_portal.services import submission
from tests.browser.axe_check import DESKTOP
from tests.browser.journey import Journey
from tests.factories import MembershipFactory, UserFactory
from tests.stripe_server.fixtures import new_stripe_account


def _wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def invoiced(browser_agency, portal_server, local_stripe):
    """The agency with Stripe connected (webhooks to the live portal), a requester's
    request and an invoice of 37.50 the publisher sent: the request is paused."""
    agency, slug = browser_agency.agency, browser_agency.agency.slug
    origin = portal_server.origin(browser_agency.host)
    account = new_stripe_account(
        local_stripe, name="Browser Clerk", webhook_url=origin + reverse("billing:stripe_webhook")
    )
    with agency_context(agency):
        publisher = UserFactory(email=f"publisher@{slug}.test")
        MembershipFactory(agency=agency, user=publisher, role=Role.ADMIN)
        requester = UserFactory(email=f"resident@{slug}.test")
        stripe_connect(
            agency=agency,
            actor=publisher,
            api_key=account.api_key,
            webhook_secret=account.webhook_secret,
        )
        records_request = submission.request_submit(
            agency=agency,
            actor=requester,
            title="Police overtime records, 2025",
            description="Every overtime sheet of 2025.",
            contact=submission.Contact(name="Pat Resident"),
            channel="web",
        )
        invoice = invoices.invoice_create(records_request=records_request, actor=publisher)
        invoices.invoice_line_add(
            invoice=invoice,
            actor=publisher,
            kind=LineKind.CUSTOM,
            description="Copies on USB drive",
            quantity=3,
            unit_cents=1_250,
        )
        invoice = sending.invoice_send(invoice=invoice, actor=publisher)
        assert RecordsRequest.objects.get(pk=records_request.pk).is_paused
    return requester, records_request, invoice, publisher


def test_the_requester_pays_by_card_on_stripes_page_and_the_request_resumes(
    invoiced, browser_agency, signed_in_context, axe_script
):
    from playwright.sync_api import expect

    journey = Journey("billing", axe_script)
    requester, records_request, invoice, admin = invoiced
    agency = browser_agency.agency
    page = signed_in_context(requester, browser_agency.host).new_page()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.goto(reverse("request_detail", args=[records_request.number]))
    expect(page.get_by_text("The clock on your request is paused")).to_be_visible()
    journey.step(page, "request page with Pay by card")
    with page.expect_navigation():
        page.get_by_role("link", name=invoice.number, exact=True).click()
    journey.step(page, "invoice")
    page.go_back()
    page.get_by_role("button", name="Pay $37.50 by card").click()
    # Stripe's hosted page (the local one): the card is typed there, never on the portal.
    expect(page.get_by_role("heading", name="Pay Browser Clerk")).to_be_visible()
    journey.step(page, "card page (local Stripe)")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    journey.step(page, "card declined (local Stripe)")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    expect(page.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    expect(page.get_by_text(f"Invoice {invoice.number} is paid")).to_be_visible()
    journey.step(page, "payment confirmation")

    def webhook_done() -> bool:
        with agency_context(agency):
            return WebhookEvent.objects.filter(
                agency=agency, event_type="checkout.session.completed", processed_at__isnull=False
            ).exists()

    assert _wait_for(webhook_done), "the local Stripe's webhook did not reach the portal"
    with agency_context(agency):
        invoice = Invoice.objects.get(pk=invoice.pk)
        records_request = RecordsRequest.objects.get(pk=records_request.pk)
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_cents == 3_750
    assert not records_request.is_paused and records_request.release_hold == ""
    page.get_by_role("link", name="Back to your request").click()
    expect(page.get_by_text("Paid").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("by card"))).to_have_count(0)
    # The admin's Stripe page (connected: the key's last four characters only).
    journey.step(page, "request page, paid")
    admin_page = signed_in_context(admin, browser_agency.host).new_page()
    admin_page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    admin_page.goto(reverse("billing:invoice_edit", args=[invoice.pk]))
    expect(admin_page.locator("main")).to_contain_text("Paid")
    journey.step(admin_page, "invoice editor, paid")
    admin_page.goto(reverse("billing:stripe_connect"))
    expect(admin_page.get_by_role("heading", name="Card payments (Stripe)")).to_be_visible()
    journey.step(admin_page, "Stripe connection")
    journey.finish()
