"""The footer with the agency's contact details, in Chromium on a 320 px wide screen: nothing
overflows sideways (a long email address and address included), and it is the page's
contentinfo landmark with the contact in an <address>."""

from __future__ import annotations

import pytest

from accounts.models import Agency

LONG_EMAIL = "public.records.requests.office@department-of-public-works.example.gov"


@pytest.mark.parametrize("path", ["/", "/privacy/"])
def test_the_footer_fits_a_320px_screen_and_is_a_landmark(
    chromium, portal_server, browser_agency, path
):
    Agency.objects.filter(pk=browser_agency.agency.pk).update(
        contact_phone="+1 (312) 555-0100 ext. 1234",
        contact_email=LONG_EMAIL,
        contact_address="Municipal Administration Building, Room 1010\n121 North LaSalle Street",
        office_hours="Monday to Friday, 8 AM to 4:30 PM, closed on public holidays",
    )
    context = chromium.new_context(
        base_url=portal_server.origin(browser_agency.host), viewport={"width": 320, "height": 640}
    )
    try:
        page = context.new_page()
        page.goto(path)

        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        footer = page.get_by_role("contentinfo")
        assert footer.count() == 1
        assert footer.locator("address").count() == 1
        email = footer.get_by_role("link", name=LONG_EMAIL)
        assert email.get_attribute("href") == f"mailto:{LONG_EMAIL}"
        box = email.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 320
        phone = footer.get_by_role("link", name="+1 (312) 555-0100 ext. 1234")
        assert phone.get_attribute("href") == "tel:+13125550100;ext=1234"
        assert footer.get_by_role("navigation", name="About this portal").count() == 1
        assert footer.get_by_role("link", name="Accessibility").is_visible()
    finally:
        context.close()
