"""After a failed submit the page opens with the focus on its error summary (issue 10, item
9), with JavaScript (static/js/error-summary.js) and without it (the summary's autofocus):
keyboard and screen-reader users start at what went wrong, and its link takes them to the
field.

Real Chromium against the live server (tests/browser/conftest.py).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from requests_portal.services import submission
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def publisher_and_request(browser_agency):
    agency = browser_agency.agency
    with agency_context(agency):
        publisher = UserFactory(email=f"publisher@{agency.slug}.test")
        MembershipFactory(agency=agency, user=publisher, role=Role.PUBLISHER)
        records_request = submission.request_submit(
            agency=agency,
            actor=None,
            title="Council budget minutes, 2025",
            description="The minutes of every budget session.",
            contact=submission.Contact(name="Jane Resident", email="jane@example.org"),
            channel="web",
        )
    return publisher, records_request


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_failed_submit_puts_the_focus_on_the_error_summary(
    browser_agency, signed_in_context, publisher_and_request, javascript
):
    from playwright.sync_api import expect

    publisher, records_request = publisher_and_request
    page = signed_in_context(publisher, browser_agency.host, javascript=javascript).new_page()
    page.goto(reverse("staff:request_detail", args=[records_request.number]))

    # Send a message to the requester with no text: the form comes back with its errors.
    page.get_by_role("button", name="Send to requester").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    # Its link leads to the empty field.
    summary.get_by_role("link", name="Message: This field is required.").click()
    assert page.evaluate("location.hash") == "#id_body"
    expect(page.locator("#id_body")).to_be_in_viewport()
