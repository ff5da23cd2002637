"""A resident files a records request (issue 16, browser journeys): on a phone (390 x 844,
touch) as a guest, and on a desktop signed in, with the keyboard only (Tab, Enter, Space and
typing; no mouse). Every page on the way is checked (tests/browser/journey.py: axe-core, a
visible focus, a screenshot in .local/screenshots/<journey>/)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal.models import RecordsRequest, RequestDepartment
from tests.browser.axe_check import DESKTOP, PHONE
from tests.browser.helpers import keyboard_fill, keyboard_follow, tab_to, with_defaults
from tests.browser.journey import Journey, focus_problems
from tests.factories import UserFactory


@pytest.fixture
def phone(chromium, portal_server, browser_agency) -> Iterator:
    """A guest's phone: a touch screen the size of a common one, no mouse."""
    with_defaults(browser_agency.agency)
    context = chromium.new_context(
        base_url=portal_server.origin(browser_agency.host),
        viewport={"width": PHONE[0], "height": PHONE[1]},
        is_mobile=True,
        has_touch=True,
    )
    try:
        yield context
    finally:
        context.close()


def test_a_guest_files_a_request_on_a_phone(phone, browser_agency, axe_script):
    from playwright.sync_api import expect

    journey = Journey("resident on a phone", axe_script)
    email = f"ann-{uuid.uuid4().hex[:8]}@example.org"
    page = phone.new_page()
    page.goto(reverse("home"))
    journey.step(page, "agency home")

    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Make a request").tap()
    journey.step(page, "request form")

    # Sent empty first: the errors, then the form filled in by tapping each field.
    with page.expect_navigation():
        page.get_by_role("button", name="Send my request").tap()
    expect(page.locator(".error-summary")).to_be_visible()
    journey.step(page, "request form with errors")
    for label, value in (
        ("Summary of your request", "Police reports for 100 Main St, March 2026"),
        ("What records do you want?", "Every incident report for 100 Main St, March 2026."),
        (re.compile(r"^Your name"), "Ann Resident"),
        (re.compile(r"^Email address"), email),
    ):
        field = page.get_by_label(label)
        field.tap()
        field.fill(value)
    page.get_by_label("How do you want the records?").select_option(label="Paper copies by mail")
    page.get_by_label(re.compile(r"^Mailing address")).fill("12 Elm St\nSpringfield")
    with page.expect_navigation():
        page.get_by_role("button", name="Send my request").tap()

    # The confirmation: the number, what happens next and the tracking link.
    assert re.search(r"/requests/[^/]+/\?t=", page.url), page.url
    with agency_context(browser_agency.agency):
        filed = RecordsRequest.objects.get(agency=browser_agency.agency, requester_email=email)
    assert filed.title == "Police reports for 100 Main St, March 2026"
    assert filed.delivery == "mail" and filed.requester_address.startswith("12 Elm St")
    expect(page.get_by_role("status")).to_contain_text(f"Your request number is {filed.number}")
    tracking_url = page.get_by_label("Tracking link").input_value()
    journey.step(page, "confirmation")

    # Later, the tracking link: the request's page.
    later = phone.new_page()
    later.goto(tracking_url)
    expect(later.get_by_role("heading", level=1)).to_have_text(filed.title)
    journey.step(later, "request page by tracking link")
    journey.finish()


def test_a_signed_in_resident_files_a_request_on_a_desktop_with_the_keyboard_only(
    browser_agency, signed_in_context, axe_script
):
    from playwright.sync_api import expect

    with_defaults(browser_agency.agency)
    journey = Journey("resident keyboard only", axe_script)
    with agency_context(browser_agency.agency):
        resident = UserFactory(email=f"resident-{uuid.uuid4().hex[:6]}@example.org")
    context = signed_in_context(resident, browser_agency.host)
    page = context.new_page()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.goto(reverse("home"))
    journey.step(page, "agency home")

    # From the skip link to the request form, by the main navigation.
    tab_to(page, ".skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.goto(reverse("home"))
    keyboard_follow(page, "nav[aria-label=Main] a[href$='/requests/new/']")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ask Browser Test Agency")
    journey.step(page, "request form")

    keyboard_fill(page, "#id_title", "Building permits for 12 Elm St, 2024")
    keyboard_fill(page, "#id_description", "Every permit and inspection report for 12 Elm St.")
    # The department, chosen from its list with the arrow keys.
    tab_to(page, "#id_department")
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_department option:checked").inner_text() == "Police"
    keyboard_fill(page, "#id_name", "Ray Resident")
    # The button, pressed with the space bar.
    keyboard_follow(page, "#request-form button[type=submit]", key="Space")

    with agency_context(browser_agency.agency):
        filed = RecordsRequest.objects.get(agency=browser_agency.agency, requester=resident)
        departments = RequestDepartment.objects.filter(request=filed)
        assert [d.department.name for d in departments] == ["Police"]
    assert filed.title == "Building permits for 12 Elm St, 2024"
    assert filed.requester_name == "Ray Resident"
    assert page.url.endswith(reverse("request_detail", args=[filed.number]))
    expect(page.get_by_role("status")).to_contain_text(f"Your request number is {filed.number}")
    journey.step(page, "confirmation")

    # Their requests, from the main navigation: the new one is listed.
    keyboard_follow(page, "nav[aria-label=Main] a[href$='/requests/mine/']")
    expect(page.get_by_role("row", name=re.compile(filed.title))).to_be_visible()
    journey.step(page, "my requests")
    keyboard_follow(page, text=filed.number)
    expect(page.get_by_role("heading", level=1)).to_have_text(filed.title)
    journey.step(page, "request page")
    journey.finish()


def test_the_focus_check_names_an_element_whose_focus_is_not_drawn(phone):
    """The check can fail: the skip link's outline taken away (as ``outline: none`` in a
    style sheet would) is reported with the element; the other elements pass."""
    page = phone.new_page()
    page.goto(reverse("home"))
    assert focus_problems(page) == []
    page.evaluate("() => { document.querySelector('.skip-link').style.outline = 'none'; }")
    [problem] = focus_problems(page)
    assert problem.startswith('<a> "Skip to main content": focused'), problem
