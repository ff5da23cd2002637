"""A resident makes a personal API token, uses it and revokes it (issue 16, browser journeys):
the token is shown once, on the page the form answers with, and never again; the API answers
it until it is revoked, then refuses it. Every page on the way is checked
(tests/browser/journey.py: axe-core, a visible focus, a screenshot)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

from django.urls import reverse

from accounts.tenancy import agency_context
from tests.browser.axe_check import DESKTOP
from tests.browser.helpers import filed_request
from tests.browser.journey import Journey
from tests.factories import UserFactory


def api_get(port: int, host: str, path: str, token: str) -> tuple[int, object]:
    """GET on the live server's API with the token, as a program would (loopback, the
    agency's name in the Host header)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": host, "Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_a_resident_makes_a_token_sees_it_once_uses_it_and_revokes_it(
    browser_agency, signed_in_context, portal_server, axe_script
):
    from playwright.sync_api import expect

    agency, host = browser_agency.agency, browser_agency.host
    with agency_context(agency):
        resident = UserFactory(email=f"resident-{uuid.uuid4().hex[:6]}@example.org")
    filed = filed_request(agency, title="Tree removal permits, 2025", requester=resident)
    journey = Journey("api token", axe_script)
    page = signed_in_context(resident, host).new_page()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.set_default_timeout(10_000)
    page.goto(reverse("accounts:security"))
    journey.step(page, "account")
    page.goto(reverse("api_tokens:list"))
    journey.step(page, "api tokens")

    page.get_by_label("Name").fill("My spreadsheet")
    page.get_by_label("Requests, their messages and timelines: read").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Make the token").click()
    shown = page.get_by_role("textbox", name="Token")
    expect(shown).to_be_visible()
    token = shown.input_value()
    assert len(token) > 30
    journey.step(page, "token shown once")

    status, body = api_get(portal_server.port, host, "/api/v1/requests/", token)
    assert status == 200, body
    assert filed.number in json.dumps(body)

    # Shown once: the list names the token by its start only.
    page.goto(reverse("api_tokens:list"))
    expect(page.get_by_role("textbox", name="Token")).to_have_count(0)
    assert token not in page.content()
    row = page.locator("tbody tr", has_text="My spreadsheet")
    expect(row).to_have_count(1)
    journey.step(page, "token listed")

    with page.expect_navigation():
        row.get_by_role("button", name="Revoke My spreadsheet").click()
    expect(page.get_by_text("The token is revoked: it no longer works.")).to_be_visible()
    expect(row).to_contain_text("Revoked")
    journey.step(page, "token revoked")
    status, _body = api_get(portal_server.port, host, "/api/v1/requests/", token)
    assert status == 401
    journey.finish()
