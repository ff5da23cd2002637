"""Staff pages on a 320 px wide screen (issue 10, items 3 and 8): the request queue, a
request's page, its documents and a document's page fit the width (nothing to scroll
sideways), the queue's rows become stacked cards that still name each value, and every
radio button and checkbox (the release choice, "Email this note to", the departments to
route to) is drawn right beside its own label, on a phone and on a desktop.

Real Chromium against the live server (tests/browser/conftest.py).
"""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from documents.models import Finding
from requests_portal.services import lifecycle, submission
from tests.documents.helpers import pdf_with_text, stored_document
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

NARROW = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}

# How far the page can be scrolled sideways, and the elements that stick out past the right
# edge (to say which, when the test fails). Every <details> is opened first, so the forms
# folded inside them are measured too.
OVERFLOW = """() => {
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const node of document.querySelectorAll("body *")) {
    const box = node.getBoundingClientRect();
    if (box.width > 1 && box.right > width + 0.5 && node.checkVisibility()) {
      wide.push(`${node.tagName.toLowerCase()}.${node.className} ${Math.round(box.right)}px`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 8)};
}"""

# For every radio button and checkbox of the page's forms: its label's text and the gap in
# pixels between the control's right edge and its label's left edge (both on one line).
CONTROL_GAPS = """() => {
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const gaps = [];
  const controls = "form input[type=radio], form input[type=checkbox]";
  for (const input of document.querySelectorAll(controls)) {
    if (!input.id) { continue; }
    const label = document.querySelector(`label[for="${input.id}"]`);
    if (!label) { gaps.push([input.id, null, null]); continue; }
    const box = input.getBoundingClientRect();
    const text = label.getBoundingClientRect();
    gaps.push([label.textContent.trim(), Math.round(text.left - box.right),
               Math.round(Math.abs(text.top - box.top))]);
  }
  return gaps;
}"""

# The legend of the fieldset around each radio button and checkbox (null when none).
GROUP_NAMES = """() => Array.from(
  document.querySelectorAll("form .choice input"),
  (input) => { const legend = input.closest("fieldset")?.querySelector("legend");
               return legend ? legend.textContent.trim() : null; }
)"""


@pytest.fixture
def busy_request(browser_agency):
    """A request with everything its staff page can show, all of it long: title,
    description, email addresses, departments, and a document with a personal-data finding.
    Returns (an admin of the agency, the request, the document)."""
    agency = browser_agency.agency
    with agency_context(agency):
        admin = UserFactory(email=f"records.administrator.long-name@{agency.slug}.example.org")
        MembershipFactory(agency=agency, user=admin, role=Role.ADMIN)
        departments = [
            DepartmentFactory(agency=agency, name="Police Department Records Division"),
            DepartmentFactory(agency=agency, name="Public Works and Transportation"),
        ]
        records_request = submission.request_submit(
            agency=agency,
            actor=None,
            title="All correspondence about the Riverside-Boulevard-Reconstruction project",
            description="Every email, memo and contract amendment between 2019 and 2024. " * 5,
            contact=submission.Contact(
                name="Jane Resident", email="jane.resident.with.a.long.address@example.org"
            ),
            channel="web",
        )
        lifecycle.request_route(
            records_request=records_request,
            actor=admin,
            departments=departments,
            lead=departments[0],
            point_of_contact=admin,
        )
        document = stored_document(
            records_request,
            pdf_with_text("Minutes"),
            filename="Riverside-Boulevard-Reconstruction-contract-amendment-7-final.pdf",
            actor=admin,
        )
        Finding.objects.create(
            agency=agency,
            document=document,
            kind="email",
            location="page 1",
            excerpt="jane.resident.with.a.long.address@example.org",
            value_digest="0" * 64,
            page=1,
        )
    return admin, records_request, document


def staff_pages(records_request, document) -> dict[str, str]:
    return {
        "queue": reverse("staff:request_queue"),
        "request": reverse("staff:request_detail", args=[records_request.number]),
        "documents": reverse("staff:request_documents", args=[records_request.number]),
        "document": reverse(
            "staff:document_detail", args=[records_request.number, document.public_id]
        ),
    }


def test_staff_pages_fit_a_320_px_screen(browser_agency, signed_in_context, busy_request):
    admin, records_request, document = busy_request
    page = signed_in_context(admin, browser_agency.host).new_page()
    page.set_viewport_size(NARROW)
    for name, url in staff_pages(records_request, document).items():
        page.goto(url)
        measured = page.evaluate(OVERFLOW)
        assert measured["scrollWidth"] <= 320, (name, measured)


def test_on_a_narrow_screen_the_queue_is_a_list_of_cards_naming_each_value(
    browser_agency, signed_in_context, busy_request
):
    from playwright.sync_api import expect

    admin, records_request, _ = busy_request
    page = signed_in_context(admin, browser_agency.host).new_page()
    page.set_viewport_size(NARROW)
    page.goto(reverse("staff:request_queue"))
    row = page.locator("table.queue tbody tr").first
    expect(row).to_contain_text(records_request.number)
    # One value under the other, each after its column's name (the header row is hidden).
    cells = row.locator("td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert all(
        later["y"] >= earlier["y"] + earlier["height"] - 1
        for earlier, later in itertools.pairwise(boxes)
    )
    labels = page.evaluate(
        """() => Array.from(document.querySelectorAll("table.queue tbody tr:first-child td"),
              (td) => getComputedStyle(td, "::before").content)"""
    )
    assert labels == ['"Number: "', '"Summary: "', '"Status: "', '"Due: "', '"Point of contact: "']
    assert page.locator("table.queue thead").bounding_box()["height"] <= 1
    # On a desktop it is a table again.
    page.set_viewport_size(DESKTOP)
    assert page.locator("table.queue thead").bounding_box()["height"] > 20
    first, second = row.locator("td").nth(0).bounding_box(), row.locator("td").nth(1).bounding_box()
    assert first["y"] == second["y"] and second["x"] > first["x"]


@pytest.mark.parametrize("viewport", [NARROW, DESKTOP], ids=["320px", "desktop"])
def test_each_radio_button_and_checkbox_sits_beside_its_label_in_a_named_group(
    browser_agency, signed_in_context, busy_request, viewport
):
    admin, records_request, document = busy_request
    page = signed_in_context(admin, browser_agency.host).new_page()
    page.set_viewport_size(viewport)
    pages = staff_pages(records_request, document)

    page.goto(pages["document"])
    gaps = page.evaluate(CONTROL_GAPS)
    assert [label for label, *_ in gaps] == [
        "Staff only",
        "Released to the requester",
        "Released to the public",
    ]
    # Right beside it: a few pixels apart, on the same line; the fieldset names the group.
    assert all(0 <= gap <= 16 and rise <= 8 for _, gap, rise in gaps), gaps
    assert page.evaluate(GROUP_NAMES) == ["Who may see this document"] * 3

    page.goto(pages["request"])
    gaps = page.evaluate(CONTROL_GAPS)
    labelled = {label for label, *_ in gaps}
    assert {admin.email, "Police Department Records Division"} <= labelled, gaps
    assert all(gap is not None and 0 <= gap <= 16 and rise <= 8 for _, gap, rise in gaps), gaps
    assert {"Email this note to (optional)", "Departments (optional)"} <= set(
        page.evaluate(GROUP_NAMES)
    )
