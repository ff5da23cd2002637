"""Staff answer a request and the resident downloads the record (issue 16, browser journeys):
a publisher routes the request, messages the requester, uploads a PDF with the resumable
uploader (the progress bar moves part by part), redacts the Social Security number the scan
found, releases the redacted version to the requester and closes the request; the resident,
signed in, downloads the record and it no longer holds the number. Every page on the way is
checked (tests/browser/journey.py: axe-core, a visible focus, a screenshot)."""

from __future__ import annotations

import io
import re
import uuid

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from documents.models import Document, ReleaseLevel
from requests_portal.models import RecordsRequest, RequestDepartment
from tests.browser.axe_check import DESKTOP
from tests.browser.helpers import filed_request, with_defaults
from tests.browser.journey import Journey
from tests.browser.upload_helpers import CHUNK, WATCH_PROGRESS, padded_pdf, small_chunks
from tests.factories import MembershipFactory, UserFactory

_small_chunks = pytest.fixture(autouse=True)(small_chunks)

SSN = "123-45-6789"
FILENAME = "Parks payroll January.pdf"


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def desktop_page(context):
    page = context.new_page()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.set_default_timeout(10_000)  # a missing element fails in seconds, not half a minute
    return page


def test_staff_route_message_upload_redact_release_close_and_the_resident_downloads(
    browser_agency, signed_in_context, axe_script
):
    from playwright.sync_api import expect

    agency = browser_agency.agency
    with_defaults(agency)
    with agency_context(agency):
        publisher = UserFactory(email=f"publisher@{agency.slug}.test")
        MembershipFactory(agency=agency, user=publisher, role=Role.PUBLISHER)
        resident = UserFactory(email=f"resident-{uuid.uuid4().hex[:6]}@example.org")
    filed = filed_request(agency, title="Parks payroll, January 2026", requester=resident)
    journey = Journey("staff answer a request", axe_script)
    page = desktop_page(signed_in_context(publisher, browser_agency.host))

    page.goto(reverse("staff:request_queue"))
    journey.step(page, "request queue")
    with page.expect_navigation():
        page.get_by_role("link", name=filed.number, exact=True).click()
    journey.step(page, "request page")

    # Route: the Police department leads, the publisher is the point of contact.
    page.locator("summary", has_text="Route").click()
    page.get_by_label("Police").check()
    page.get_by_label("Lead department").select_option(label="Police")
    page.get_by_label("Point of contact").select_option(label=publisher.email)
    with page.expect_navigation():
        page.get_by_role("button", name="Save routing").click()
    expect(page.locator("main .messages")).to_be_visible()
    journey.step(page, "request routed")

    # A message to the requester.
    page.get_by_label("Message", exact=True).fill(
        "We found the payroll summary and are checking it."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Send to requester").click()
    expect(page.locator(".messages-list")).to_contain_text("We found the payroll summary")
    journey.step(page, "message sent")

    # The upload, with the progress bar: a PDF of three parts.
    data = padded_pdf(2 * CHUNK + CHUNK // 2, "Parks payroll", f"Employee SSN {SSN}")
    with page.expect_navigation():
        page.get_by_role("link", name="Add files").click()
    journey.step(page, "upload page")
    page.evaluate(WATCH_PROGRESS)
    page.locator("#upload-form input[type=file]").set_input_files(
        files=[{"name": FILENAME, "mimeType": "application/pdf", "buffer": data}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-progress-done")).to_be_visible(timeout=30_000)
    values = [value for value, _ in page.evaluate("window.progressSeen")]
    assert values == sorted(values) and values[0] == 0 and values[-1] == len(data)
    assert {CHUNK, 2 * CHUNK} <= set(values)  # part by part
    journey.step(page, "upload done")

    # The document's page, from the list of uploads: the scan found the number.
    with page.expect_navigation():
        page.locator("#upload-progress-list").get_by_role("link", name=FILENAME).click()
    expect(page.locator("main table")).to_contain_text("6789")
    journey.step(page, "document with a finding")

    # Redacted: every Social Security number, with a reason; then applied (a new version).
    with page.expect_navigation():
        page.get_by_role("link", name="Redact", exact=True).click()
    journey.step(page, "redaction page")
    page.locator("summary", has_text="Personal data").click()
    page.get_by_label("US Social Security numbers").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Find and mark").click()
    journey.step(page, "redaction marked")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply the redactions (new version)").click()
    journey.step(page, "redaction applied")
    page.goto(reverse("staff:document_detail", args=[filed.number, _document(agency).public_id]))
    expect(page.get_by_text(re.compile(r"Version 2: Redacted"))).to_be_visible(timeout=30_000)

    # Released to the requester.
    page.get_by_label("Released to the requester").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save who can download it").click()
    assert _document(agency).release == ReleaseLevel.REQUESTER
    journey.step(page, "document released")

    # Closed, released in part, with the exemption cited.
    page.goto(reverse("staff:request_detail", args=[filed.number]))
    page.locator("summary", has_text="Close").click()
    page.get_by_label("Outcome", exact=True).select_option(
        label="Records released in part (some withheld)"
    )
    page.get_by_label(re.compile("^Exemption cited")).fill("Personal privacy, section 7(1)(c)")
    page.get_by_label("Closing message to the requester").fill("The payroll, redacted.")
    with page.expect_navigation():
        page.get_by_role("button", name="Close the request").click()
    journey.step(page, "request closed")
    with agency_context(agency):
        closed = RecordsRequest.objects.get(agency=agency, pk=filed.pk)
        routed = RequestDepartment.objects.select_related("department").get(request=closed)
    assert closed.status == "closed" and closed.point_of_contact_id == publisher.pk
    assert (routed.department.name, routed.is_lead) == ("Police", True)

    # The resident downloads the record: the redacted version, the number gone.
    mine = desktop_page(signed_in_context(resident, browser_agency.host))
    mine.goto(reverse("request_detail", args=[filed.number]))
    expect(mine.get_by_text("The payroll, redacted.")).to_be_visible()
    released = mine.locator("section", has=mine.get_by_role("heading", name="Released records"))
    journey.step(mine, "resident's request page")
    with mine.expect_download() as download:
        released.get_by_role("button", name=f"Download {FILENAME}").click()
    body = download.value.path().read_bytes()
    text = pdf_text(body)
    assert "Parks payroll" in text  # the OCR layer of the redacted pages
    assert SSN not in text and "6789" not in text and SSN.encode() not in body
    journey.finish()


def _document(agency) -> Document:
    with agency_context(agency):
        return Document.objects.get(agency=agency)
