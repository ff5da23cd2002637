"""How the public reaches an agency: its contact details in every page's footer, its privacy
notice and accessibility statement, the admin page that edits them, and the "too many
attempts" page naming them."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts import audit_events
from accounts.contact import phone_uri, reach_sentence
from accounts.models import Agency
from audit import registry
from tests.accounts.identity_helpers import events, sign_in, text

CONTACT = {
    "contact_phone": "(312) 555-0100 ext. 12",
    "contact_email": "records@alpha.example.gov",
    "contact_address": "City Hall, Room 101\n121 N LaSalle St\nChicago, IL 60602",
    "office_hours": "Monday to Friday, 8 AM to 4:30 PM",
    "privacy_notice": "",
    "accessibility_statement": "",
}
SCRIPT = "<script>alert(1)</script>"


def set_contact(tenant, **values) -> Agency:
    Agency.objects.filter(pk=tenant.agency.pk).update(**values)
    tenant.agency.refresh_from_db()
    return tenant.agency


def footer_of(response) -> str:
    body = response.content.decode()
    match = re.search(r"<footer\b.*?</footer>", body, re.S)
    assert match, "the page has no <footer> landmark"
    return match.group()


def contact_url() -> str:
    return reverse("staff:contact_settings")


# --- The footer -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["public", "staff"])
def test_the_footer_of_every_page_names_how_to_reach_the_agency(tenant, client_for, page):
    set_contact(tenant, **CONTACT)
    if page == "public":
        response = client_for(None, tenant.host).get(reverse("archive"))
    else:
        response = client_for(tenant.staff, tenant.host).get(reverse("staff:staff_dashboard"))

    assert response.status_code == 200
    footer = footer_of(response)
    assert "<address" in footer
    assert "Alpha Test Agency" in footer
    assert '<a href="tel:3125550100;ext=12">(312) 555-0100 ext. 12</a>' in footer
    assert '<a href="mailto:records@alpha.example.gov">records@alpha.example.gov</a>' in footer
    assert "City Hall, Room 101<br>121 N LaSalle St<br>Chicago, IL 60602" in footer
    assert "Monday to Friday, 8 AM to 4:30 PM" in footer
    assert f'href="{reverse("privacy")}"' in footer
    assert f'href="{reverse("accessibility")}"' in footer


def test_a_footer_without_details_says_the_agency_has_published_none(tenant, client_for):
    footer = footer_of(client_for(None, tenant.host).get(reverse("home")))

    assert "has not published a phone number, email address or office address" in footer
    assert "tel:" not in footer
    assert "mailto:" not in footer
    assert f'href="{reverse("privacy")}"' in footer


def test_the_footer_escapes_what_the_admin_typed(tenant, client_for):
    set_contact(tenant, contact_address=SCRIPT, office_hours=SCRIPT)

    footer = footer_of(client_for(None, tenant.host).get(reverse("home")))

    assert SCRIPT not in footer
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in footer


def test_an_email_address_cannot_add_headers_to_its_mailto_link(tenant, client_for):
    # A quoted local part is a valid address, yet "?" and "&" in a mailto: link start
    # headers: the link would copy every resident's message to someone else.
    tricky = '"records?bcc=spy@evil.test&body=hi"@alpha.example.gov'
    set_contact(tenant, contact_email=tricky)

    footer = footer_of(client_for(None, tenant.host).get(reverse("home")))

    [link] = re.findall(r'href="(mailto:[^"]*)"', footer)
    assert link == "mailto:%22records%3Fbcc%3Dspy@evil.test%26body%3Dhi%22@alpha.example.gov"
    assert "?" not in link and "&" not in link


def test_the_platform_domain_has_no_agency_footer_nor_notice_pages(db, client_for):
    client = client_for(None, settings.PORTAL_BASE_DOMAIN)

    footer = footer_of(client.get(reverse("home")))

    assert "<address" not in footer
    assert client.get(reverse("privacy")).status_code == 404
    assert client.get(reverse("accessibility")).status_code == 404


# --- The notices ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "url_name"),
    [("privacy_notice", "privacy"), ("accessibility_statement", "accessibility")],
)
def test_a_notice_page_shows_the_agency_text_in_paragraphs_and_escaped(
    tenant, client_for, field, url_name
):
    set_contact(
        tenant,
        **{field: f"We keep what you send us for seven years.\n\nQuestions? {SCRIPT}\nThanks."},
    )

    response = client_for(None, tenant.host).get(reverse(url_name))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<p>We keep what you send us for seven years.</p>" in body
    assert "<p>Questions? &lt;script&gt;alert(1)&lt;/script&gt;<br>Thanks.</p>" in body
    assert SCRIPT not in body
    assert "has not published" not in body.split("<footer")[0]


def test_without_a_privacy_notice_the_page_says_so_and_how_to_ask(tenant, client_for):
    set_contact(tenant, contact_email="records@alpha.example.gov")

    response = client_for(None, tenant.host).get(reverse("privacy"))

    main = text(response).split("<footer")[0]
    assert "<h1>Privacy notice</h1>" in main
    assert "Alpha Test Agency has not published a privacy notice on this portal yet." in main
    assert 'href="mailto:records@alpha.example.gov"' in main


def test_without_an_accessibility_statement_the_page_says_so_and_how_to_ask(tenant, client_for):
    set_contact(tenant, contact_phone="312-555-0100")

    response = client_for(None, tenant.host).get(reverse("accessibility"))

    main = text(response).split("<footer")[0]
    assert "<h1>Accessibility statement</h1>" in main
    assert "has not published an accessibility statement on this portal yet." in main
    assert "another format" in main
    assert 'href="tel:3125550100"' in main


# --- The admin page -------------------------------------------------------------------------


def test_an_admin_saves_the_details_and_notices_in_one_audited_change(tenant, client_for):
    client = client_for(tenant.admin, tenant.host)
    values = {**CONTACT, "privacy_notice": "We publish requests.\n\nNever your address."}

    response = client.post(contact_url(), values)

    assert response.status_code == 302
    assert response["Location"] == contact_url()
    tenant.agency.refresh_from_db()
    assert tenant.agency.contact_phone == CONTACT["contact_phone"]
    assert tenant.agency.contact_email == CONTACT["contact_email"]
    assert tenant.agency.contact_address == CONTACT["contact_address"]
    assert tenant.agency.office_hours == CONTACT["office_hours"]
    assert tenant.agency.privacy_notice == values["privacy_notice"]
    [event] = events(tenant.agency, audit_events.AGENCY_CONTACT_CHANGED.code)
    assert event.actor_id == tenant.admin.pk
    changes = event.details["changes"]
    assert changes["contact_phone"] == {"from": "", "to": CONTACT["contact_phone"]}
    assert changes["privacy_notice"] == {"changed": True, "length": len(values["privacy_notice"])}
    assert "accessibility_statement" not in changes
    sentence = registry.get(event.action).describe(
        actor="Ann Admin", target="", details=event.details
    )
    assert sentence.startswith("Ann Admin changed what the public is told about the agency:")
    assert "public phone number" in sentence
    assert "privacy notice" in sentence
    page = client.get(contact_url())
    assert "records@alpha.example.gov" in text(page)


def test_saving_the_same_values_again_records_nothing(tenant, client_for):
    set_contact(tenant, **CONTACT)

    response = client_for(tenant.admin, tenant.host).post(contact_url(), CONTACT)

    assert response.status_code == 302
    assert events(tenant.agency, audit_events.AGENCY_CONTACT_CHANGED.code) == []


def test_a_bad_email_or_phone_gets_field_errors_and_saves_nothing(tenant, client_for):
    bad = {**CONTACT, "contact_email": "records at alpha", "contact_phone": "call us <b>"}

    response = client_for(tenant.admin, tenant.host).post(contact_url(), bad)

    assert response.status_code == 400
    body = text(response)
    assert "Enter an email address such as records@example.gov." in body
    assert "Enter a phone number of 7 to 15 digits" in body
    assert 'id="id_contact_email_error"' in body
    assert 'id="id_contact_phone_error"' in body
    tenant.agency.refresh_from_db()
    assert tenant.agency.contact_email == ""
    assert tenant.agency.contact_address == ""
    assert events(tenant.agency, audit_events.AGENCY_CONTACT_CHANGED.code) == []


@pytest.mark.parametrize("role", ["staff", "publisher", "department_admin"])
def test_staff_who_are_not_admins_may_not_open_or_post_the_page(tenant, client_for, role):
    client = client_for(getattr(tenant, role), tenant.host)

    assert client.get(contact_url()).status_code == 403
    assert client.post(contact_url(), CONTACT).status_code == 403
    tenant.agency.refresh_from_db()
    assert tenant.agency.contact_email == ""


def test_the_staff_area_links_the_page_for_admins_only(tenant, client_for):
    admin_page = client_for(tenant.admin, tenant.host).get(reverse("staff:staff_dashboard"))
    staff_page = client_for(tenant.staff, tenant.host).get(reverse("staff:staff_dashboard"))

    assert f'href="{contact_url()}"' in admin_page.content.decode()
    assert f'href="{contact_url()}"' not in staff_page.content.decode()


def test_an_admin_of_another_agency_gets_404_and_changes_nothing(tenant, outsider, client_for):
    client = client_for(outsider, tenant.host)

    assert client.get(contact_url()).status_code == 404
    assert client.post(contact_url(), CONTACT).status_code == 404
    tenant.agency.refresh_from_db()
    assert tenant.agency.contact_email == ""
    assert events(tenant.agency, audit_events.AGENCY_CONTACT_CHANGED.code) == []


def test_a_resident_without_a_role_gets_404(tenant, client_for):
    assert client_for(tenant.requester, tenant.host).get(contact_url()).status_code == 404


# --- "Too many attempts" ----------------------------------------------------------------------


def test_the_too_many_attempts_page_names_the_agency_phone_and_email(tenant, client_for, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = "1/h"
    set_contact(tenant, contact_phone="312-555-0100", contact_email="records@alpha.example.gov")
    client = client_for(None, tenant.host)
    sign_in(client, tenant.staff.email, "wrong password")

    refused = sign_in(client, tenant.staff.email, "wrong password")

    assert refused.status_code == 429
    main = refused.content.decode().split("<footer")[0]
    assert "If you need help sooner, contact Alpha Test Agency:" in main
    assert '<a href="tel:3125550100">312-555-0100</a>' in main
    assert '<a href="mailto:records@alpha.example.gov">' in main


def test_the_too_many_attempts_page_says_when_no_contact_is_published(tenant, client_for, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = "1/h"
    client = client_for(None, tenant.host)
    sign_in(client, tenant.staff.email, "wrong password")

    refused = sign_in(client, tenant.staff.email, "wrong password")

    main = refused.content.decode().split("<footer")[0]
    assert refused.status_code == 429
    assert "has not published a phone number, email address or office address" in main
    assert "If you need help sooner" not in main


# --- The pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "uri"),
    [
        ("(312) 555-0100", "tel:3125550100"),
        ("+1 312 555 0100", "tel:+13125550100"),
        ("312.555.0100 x7", "tel:3125550100;ext=7"),
        ("555-0100", "tel:5550100"),
        ("call us", ""),
        ("12345", ""),
        ("+1 (312) 555-0100-9999-9999", ""),
        ("312+555", ""),
        ("", ""),
    ],
)
def test_phone_numbers_become_tel_links_only_when_they_are_numbers(typed, uri):
    assert phone_uri(typed) == uri


def test_the_reach_sentence_names_what_the_agency_published():
    agency = Agency(name="Alpha", contact_phone="312-555-0100", contact_email="a@b.gov")

    assert reach_sentence(agency) == (
        "You can also contact Alpha by phone at 312-555-0100 or by email at a@b.gov."
    )
    agency.contact_phone = ""
    assert reach_sentence(agency) == "You can also contact Alpha by email at a@b.gov."
    agency.contact_email = ""
    assert reach_sentence(agency) == ""
