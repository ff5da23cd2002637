"""An agency admin manages people (issue 16, browser journeys): requires two-factor sign-in for
all staff, invites a clerk, who accepts the emailed link, creates an account and is made to
enrol an authenticator app (the code computed from the key the page shows, as the app would),
and then changes the clerk's role. Every page on the way is checked (tests/browser/journey.py:
axe-core, a visible focus, a screenshot)."""

from __future__ import annotations

import base64
import re
import time
import uuid

from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.models import Agency, Membership, Role
from accounts.tenancy import agency_context
from tests.browser.axe_check import DESKTOP
from tests.browser.journey import Journey
from tests.factories import MembershipFactory, UserFactory

PASSPHRASE = "parks payroll ledger 2026 kestrel"


def authenticator_code(key: str) -> str:
    """The code an authenticator app shows now for the key typed into it (base32, spaces
    allowed), with the usual settings: 6 digits, 30 s steps."""
    secret = base64.b32decode(key.replace(" ", "").upper() + "=" * (-len(key.replace(" ", "")) % 8))
    totp = TOTP(secret, step=30, t0=0, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_an_admin_requires_two_factor_invites_a_clerk_who_enrols_and_changes_their_role(
    browser_agency, signed_in_context, chromium, portal_server, axe_script
):
    from playwright.sync_api import expect

    agency = browser_agency.agency
    with agency_context(agency):
        admin = UserFactory(email=f"admin@{agency.slug}.test", full_name="Avery Admin")
        MembershipFactory(agency=agency, user=admin, role=Role.ADMIN)
    clerk_email = f"clerk-{uuid.uuid4().hex[:6]}@example.org"
    journey = Journey("admin manages people", axe_script)
    page = signed_in_context(admin, browser_agency.host).new_page()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.set_default_timeout(10_000)
    page.goto(reverse("staff:staff_dashboard"))
    journey.step(page, "staff dashboard")

    # Two-factor sign-in for all staff.
    with page.expect_navigation():
        page.get_by_role("link", name="Sign-in and security settings").click()
    journey.step(page, "sign-in settings")
    page.get_by_label("Require two-factor sign-in for all staff").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save the policy").click()
    journey.step(page, "sign-in policy saved")
    assert Agency.objects.get(pk=agency.pk).mfa_required_for_staff

    # The invitation.
    page.goto(reverse("staff:staff_dashboard"))
    with page.expect_navigation():
        page.get_by_role("link", name="Users and roles").click()
    journey.step(page, "users and roles")
    with page.expect_navigation():
        page.get_by_role("link", name="Invite someone").click()
    journey.step(page, "invite form")
    page.get_by_label("Email address").fill(clerk_email)
    page.get_by_label("Role").select_option(label="Staff")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("main")).to_contain_text(clerk_email)
    journey.step(page, "invitation sent")

    # The clerk opens the emailed link in their own browser and creates an account.
    [invitation] = [m for m in mail.outbox if clerk_email in m.to]
    link = re.search(r"https?://\S+/invitations?/\S+", invitation.body)
    assert link, invitation.body
    clerk_context = chromium.new_context(base_url=portal_server.origin(browser_agency.host))
    try:
        clerk = clerk_context.new_page()
        clerk.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
        clerk.set_default_timeout(10_000)
        clerk.goto(re.sub(r"^https?://[^/]+", "", link.group(0)))
        journey.step(clerk, "invitation page")
        clerk.get_by_label("Your name").fill("Casey Clerk")
        clerk.get_by_label("Password", exact=True).fill(PASSPHRASE)
        clerk.get_by_label("Password again").fill(PASSPHRASE)
        with clerk.expect_navigation():
            clerk.get_by_role("button", name="Create account and join").click()

        # Their first sign-in; the policy sends them to enrol an authenticator app before
        # anything else.
        expect(clerk.get_by_role("heading", level=1)).to_have_text("Sign in")
        journey.step(clerk, "sign-in after joining")
        clerk.get_by_label("Email address").fill(clerk_email)
        clerk.get_by_label("Password", exact=True).fill(PASSPHRASE)
        with clerk.expect_navigation():
            clerk.get_by_role("button", name="Sign in", exact=True).click()
        expect(clerk.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
        expect(clerk.get_by_text("Your agency requires two-factor sign-in")).to_be_visible()
        journey.step(clerk, "two-factor set-up")
        key = clerk.locator("code.secret-key").inner_text()
        clerk.get_by_role("textbox", name="The 6-digit code your app shows now").fill(
            authenticator_code(key)
        )
        with clerk.expect_navigation():
            clerk.get_by_role("button", name="Turn on two-factor sign-in").click()
        expect(clerk.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
        assert clerk.locator("ol.recovery-codes li").count() == 10
        journey.step(clerk, "recovery codes")
        clerk.goto(reverse("staff:request_queue"))
        expect(clerk.get_by_role("heading", level=1)).to_be_visible()
        journey.step(clerk, "clerk's request queue")
    finally:
        clerk_context.close()

    # The admin gives the clerk the publisher's role.
    page.goto(reverse("staff:member_list"))
    with page.expect_navigation():
        page.get_by_role("link", name=clerk_email).click()
    journey.step(page, "clerk's page")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Change role of {clerk_email}").click()
    journey.step(page, "change role")
    page.get_by_label("Role").select_option(label="Publisher")
    with page.expect_navigation():
        page.get_by_role("button", name="Save role").click()
    journey.step(page, "role changed")
    with agency_context(agency):
        membership = Membership.objects.get(agency=agency, user__email=clerk_email)
        assert membership.role == Role.PUBLISHER
        assert membership.user.full_name == "Casey Clerk"
    journey.finish()
