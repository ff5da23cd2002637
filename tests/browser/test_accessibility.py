"""Accessibility of the portal's pages, checked by axe-core in Chromium (issue 10, "done
when": axe reports no serious or critical problem on the pages people use).

Every page is opened as the person who uses it (a guest, a signed-in resident, an agency
admin), checked at a phone's width (390 x 844) and a desktop's (1280 x 800), and the pages
most used on small phones also at 320 px. axe-core (tests/browser/axe, installed from its
package-lock.json by scripts/ensure-system-packages test) runs in the page against WCAG 2.0
and 2.1 A and AA and axe's best practices. A test fails on any serious or critical finding
and names each one: the page, the width, axe's rule and impact, the elements, and where axe
explains the rule. Moderate and minor findings are not counted.

Each test collects the findings of all its pages before failing, so one run shows them all.
The data the pages show is committed in the test's own agency (tests/browser/conftest.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.services import invitations
from accounts.tenancy import agency_context
from billing.models import LineKind
from billing.services import invoices, sending
from requests_portal.models import Department, MessageKind, RecordsRequest, Visibility
from requests_portal.services import lifecycle, messaging
from tests.browser.axe_check import ALL_WIDTHS, PHONE, USUAL, Axe
from tests.browser.helpers import filed_request, open_every_section, submit, with_defaults
from tests.documents.helpers import pdf_with_text, stored_document
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def axe(axe_script) -> Axe:
    return Axe(axe_script)


@pytest.fixture
def guest_page(chromium, portal_server, browser_agency) -> Iterable:
    context = chromium.new_context(base_url=portal_server.origin(browser_agency.host))
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_public_pages_have_no_serious_accessibility_problems(axe, guest_page, browser_agency):
    agency = browser_agency.agency
    with_defaults(agency)
    public = filed_request(agency, title="Council minutes 2025", email="ann@example.org")
    with agency_context(agency):
        assert RecordsRequest.objects.get(pk=public.pk).visibility == Visibility.PUBLISHED
    page = guest_page

    axe.visit(page, reverse("home"), "agency home")
    axe.visit(page, reverse("request_new"), "request form", ALL_WIDTHS)

    # Sent empty: the error summary and the fields' errors.
    submit(page)
    assert page.locator(".error-summary").count() == 1
    axe.check(page, "request form with errors", ALL_WIDTHS)

    # Filed as a guest: the confirmation, on the page the tracking link opens.
    page.fill("[name=title]", "Police reports for 100 Main St, March 2026")
    page.fill("[name=description]", "All incident reports for 100 Main St, March 2026.")
    page.fill("[name=name]", "Ann Resident")
    page.fill("[name=email]", f"ann-{uuid.uuid4().hex[:6]}@example.org")
    submit(page)
    assert re.search(r"/requests/[^/]+/\?t=", page.url), page.url
    axe.check(page, "confirmation (guest)", ALL_WIDTHS)
    # The same page again, now as the request's page seen through the tracking link.
    page.reload()
    axe.check(page, "request page (guest, tracking link)")

    axe.visit(page, reverse("archive"), "public archive")
    axe.visit(page, reverse("archive") + "?q=minutes", "public archive search")
    axe.visit(page, reverse("request_detail", args=[public.number]), "public request page")
    axe.visit(page, reverse("accounts:login"), "sign-in", ALL_WIDTHS)
    submit(page)
    assert page.locator(".field-error, .error-summary").count() >= 1
    axe.check(page, "sign-in with errors")
    axe.visit(page, reverse("accounts:signup"), "sign-up", ALL_WIDTHS)
    submit(page)
    assert page.locator(".field-error, .error-summary").count() >= 1
    axe.check(page, "sign-up with errors")
    axe.visit(page, reverse("accounts:password_reset"), "password reset")
    page.fill("[name=email]", "nobody@example.org")
    submit(page)
    axe.check(page, "password reset sent")
    axe.visit(page, "/no-such-page/", "404 page", status=404)
    axe.assert_clean()


def test_a_signed_in_residents_pages_have_no_serious_accessibility_problems(
    axe, browser_agency, signed_in_context
):
    agency = browser_agency.agency
    with agency_context(agency):
        resident = UserFactory(email=f"resident-{uuid.uuid4().hex[:6]}@example.org")
    mine = filed_request(agency, title="My own police report", requester=resident)
    filed_request(agency, title="Building permits 2024", requester=resident)
    with agency_context(agency):
        records_request = RecordsRequest.objects.get(pk=mine.pk)
        lifecycle.request_acknowledge(records_request=records_request, actor=browser_agency.staff)
        messaging.request_message(
            records_request=records_request,
            actor=browser_agency.staff,
            kind=MessageKind.TO_REQUESTER,
            body="We are looking for the report. Could you tell us the date of the incident?",
        )
        invoice = _invoice_with_a_line(records_request, browser_agency.staff)
        sending.invoice_send(invoice=invoice, actor=browser_agency.staff)

    page = signed_in_context(resident, browser_agency.host).new_page()
    axe.visit(page, reverse("my_requests"), "my requests", ALL_WIDTHS)
    axe.visit(
        page, reverse("request_detail", args=[mine.number]), "request page (requester)", ALL_WIDTHS
    )
    # A reply sent: the page again, with the flash message saying so.
    page.fill("main form[action*='/reply/'] [name=body]", "It was on March 3, in the evening.")
    submit(page, "/reply/")
    assert page.locator("main .messages li").count() == 1
    axe.check(page, "request page after a reply", ALL_WIDTHS)
    axe.visit(page, reverse("billing:invoice_page", args=[invoice.pk]), "invoice", ALL_WIDTHS)
    axe.visit(page, reverse("request_new"), "request form (signed in)")
    axe.visit(page, reverse("accounts:security"), "account security")
    axe.visit(page, reverse("accounts:profile"), "profile")
    # Their own data: the page, a download asked for (its progress or ready page), deletion.
    axe.visit(page, reverse("residents:data"), "your data", ALL_WIDTHS)
    submit(page)
    assert "/accounts/data/exports/" in page.url
    axe.check(page, "your data download", ALL_WIDTHS)
    axe.visit(page, reverse("residents:account_delete"), "delete your account", ALL_WIDTHS)
    axe.assert_clean()


def _invoice_with_a_line(records_request, actor):
    invoice = invoices.invoice_create(records_request=records_request, actor=actor)
    invoices.invoice_line_add(
        invoice=invoice, actor=actor, kind=LineKind.CUSTOM, description="Copies", unit_cents=1250
    )
    return invoice


def staff_pages(number: str, document_id) -> list[tuple[str, str, tuple]]:
    """(name, path, sizes) of the staff area's pages, for a request and one of its documents."""
    document = {"number": number, "document_id": document_id}
    return [
        ("staff dashboard", reverse("staff:staff_dashboard"), USUAL),
        ("request queue", reverse("staff:request_queue"), ALL_WIDTHS),
        ("staff request page", reverse("staff:request_detail", args=[number]), ALL_WIDTHS),
        ("new request (staff)", reverse("staff:request_new"), USUAL),
        ("request documents", reverse("staff:request_documents", args=[number]), USUAL),
        ("document upload", reverse("staff:document_upload", args=[number]), USUAL),
        ("document page", reverse("staff:document_detail", kwargs=document), ALL_WIDTHS),
        ("redaction page", reverse("staff:document_redact", kwargs=document), USUAL),
        ("audit log", reverse("staff:audit_log"), USUAL),
        ("reports", reverse("staff:report"), USUAL),
        ("fee report", reverse("billing:fee_report"), USUAL),
        ("departments", reverse("staff:department_list"), USUAL),
        ("members", reverse("staff:member_list"), USUAL),
        ("invite a member", reverse("staff:member_invite"), USUAL),
        ("request settings", reverse("staff:settings"), USUAL),
        ("response templates", reverse("staff:templates"), USUAL),
        ("request types", reverse("staff:request_types"), USUAL),
        ("form questions", reverse("staff:custom_fields"), USUAL),
        ("holidays", reverse("staff:holidays"), USUAL),
        ("closure reasons", reverse("staff:closure_reasons"), USUAL),
        ("notifications", reverse("staff:notifications"), USUAL),
        ("document settings", reverse("staff:document_settings"), USUAL),
        ("sign-in settings", reverse("staff:signin_settings"), USUAL),
        ("fees and hourly rates", reverse("billing:fee_schedule"), USUAL),
    ]


def test_the_staff_pages_have_no_serious_accessibility_problems(
    axe, browser_agency, signed_in_context
):
    agency = browser_agency.agency
    with_defaults(agency)
    with agency_context(agency):
        admin = UserFactory(email=f"admin@{agency.slug}.test")
        membership = MembershipFactory(agency=agency, user=admin, role=Role.ADMIN)
        department = Department.objects.get(agency=agency, name="Police")
        # An invitation not accepted yet, for the member list's second table.
        invitations.invitation_create(
            agency=agency, actor=admin, email="new.clerk@example.org", role=Role.STAFF
        )
    records_request = filed_request(agency, title="Council minutes 2025", email="ann@example.org")
    new_request = filed_request(agency, title="Police reports, Main St", email="bo@example.org")
    with agency_context(agency):
        records_request = RecordsRequest.objects.get(pk=records_request.pk)
        lifecycle.request_acknowledge(records_request=records_request, actor=admin)
        messaging.request_message(
            records_request=records_request,
            actor=admin,
            kind=MessageKind.INTERNAL,
            body="The minutes are with the clerk.",
        )
    document = stored_document(
        records_request, pdf_with_text("Council minutes", "Budget session 2025"), actor=admin
    )

    with agency_context(agency):
        invoice = _invoice_with_a_line(records_request, admin)
    page = signed_in_context(admin, browser_agency.host).new_page()
    pages = staff_pages(records_request.number, document.public_id)
    pages += [
        ("invoice editor", reverse("billing:invoice_edit", args=[invoice.pk]), ALL_WIDTHS),
        ("invoice page (staff)", reverse("billing:invoice_page", args=[invoice.pk]), USUAL),
        ("department", reverse("staff:department_detail", args=[department.pk]), USUAL),
        # The admin's own: it lists the session the browser is signed in with.
        ("member page", reverse("staff:member_detail", args=[membership.pk]), USUAL),
    ]
    for name, path, sizes in pages:
        axe.visit(page, path, name, sizes)

    # A new request's page with every section open; acknowledged (a flash message); a note
    # sent empty (the form's errors).
    axe.visit(page, reverse("staff:request_detail", args=[new_request.number]), "new request")
    submit(page, "/acknowledge/")
    assert page.locator("main .messages li").count() == 1
    axe.check(page, "staff request page with a message", ALL_WIDTHS)
    open_every_section(page)
    axe.check(page, "staff request page, every section open", ALL_WIDTHS)
    submit(page, "/message/")
    assert page.locator(".field-error, .error-summary").count() >= 1
    axe.check(page, "staff request page after an empty note")
    page.goto(reverse("staff:document_detail", args=[records_request.number, document.public_id]))
    open_every_section(page)
    axe.check(page, "document page, every section open", ALL_WIDTHS)
    axe.assert_clean()


def test_a_failing_check_names_the_page_the_rule_and_the_elements(axe, guest_page):
    """The report is readable: a page with a known serious problem (an image without a text
    alternative) is reported with the rule, its impact, the element and axe's help page."""
    guest_page.goto(reverse("home"))
    guest_page.evaluate(
        """() => { const img = document.createElement("img");
                   img.id = "axe-self-test"; img.src = "/static/none.png";
                   document.querySelector("main").append(img); }"""
    )
    axe.check(guest_page, "home with a bad image", [PHONE])
    assert [(f.rule, f.impact, f.targets) for f in axe.findings] == [
        ("image-alt", "critical", ["#axe-self-test"])
    ]
    report = axe.report()
    assert "home with a bad image at 390 px: image-alt (critical)" in report
    assert "https://dequeuniversity.com/rules/axe/" in report
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        axe.assert_clean()


def test_the_support_access_pages_have_no_serious_accessibility_problems(
    axe, browser_agency, signed_in_context
):
    """The operator's request and emergency forms (empty and refused), the banner on staff
    pages under a grant, and the admins' list, grant page and dashboard notice."""
    from accounts.models import SupportRole
    from accounts.support import services as support

    agency = browser_agency.agency
    with agency_context(agency):
        admin = UserFactory(email=f"admin@{agency.slug}.test")
        MembershipFactory(agency=agency, user=admin, role=Role.ADMIN)
    operator = UserFactory(email=f"operator-{agency.slug}@platform.test", is_staff=True)

    op = signed_in_context(operator, browser_agency.host).new_page()
    axe.visit(op, reverse("accounts:support_request"), "support access request form")
    submit(op)
    assert op.locator(".field-error, .error-summary").count() >= 1
    axe.check(op, "support access request form after an empty submit", USUAL)
    axe.visit(op, reverse("accounts:support_emergency"), "emergency support access form")
    with agency_context(agency):
        grant = support.support_grant_request(
            agency=agency,
            operator=operator,
            role=SupportRole.READ_ONLY,
            reason="Ticket 1: the queue shows an error",
            duration_minutes=120,
        )
    axe.visit(op, reverse("accounts:support_request"), "support access request form with one")

    staff = signed_in_context(admin, browser_agency.host).new_page()
    axe.visit(staff, reverse("staff:staff_dashboard"), "staff dashboard with a support request")
    axe.visit(staff, reverse("staff:support_access"), "support access list")
    axe.visit(staff, reverse("staff:support_grant", args=[grant.pk]), "pending support grant")
    with agency_context(agency):
        support.support_grant_approve(grant=grant, actor=admin)
    axe.visit(op, reverse("staff:request_queue"), "request queue under support access")
    axe.visit(staff, reverse("staff:support_grant", args=[grant.pk]), "live support grant")
    axe.assert_clean()
