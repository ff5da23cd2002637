"""A resident files and tracks a request in Spanish on a phone (issue 10, "done when"), in
Chromium at 390 x 844 against the live server: from the agency's home page they switch to
Español with the header's switch, read who will see their request before sending it, file
it, land on the confirmation in Spanish (what happens next, the tracking link), open the
tracking link and read the request's page in Spanish (``lang="es"``, dates in Spanish
order: "7 de dic de 2026, 09:14 CST"); the confirmation email is in Spanish too. axe-core
finds no serious or critical problem on those pages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.core import mail
from django.utils import translation

from accounts.local_time import format_date
from accounts.tenancy import agency_context
from requests_portal.models import RecordsRequest
from requests_portal.services import agency_settings, submission
from tests.browser.axe_check import PHONE, Axe

# "7 de dic de 2026, 09:14 CST": day, "de", the month's lowercase abbreviation, "de", the
# year, the 24-hour time and the agency's zone (Chicago: CST or CDT).
SPANISH_MOMENT = re.compile(r"\b\d{1,2} de [a-záéíóú]{3,4}\.? de \d{4}, \d{2}:\d{2} C[SD]T\b")


@pytest.fixture
def phone(chromium, portal_server, browser_agency) -> Iterator:
    """A guest's phone: a fresh browser (no language cookie, an English browser)."""
    with agency_context(browser_agency.agency):
        agency_settings.agency_setup_defaults(agency=browser_agency.agency, state="IL")
    context = chromium.new_context(
        base_url=portal_server.origin(browser_agency.host),
        viewport={"width": PHONE[0], "height": PHONE[1]},
        locale="en-US",
    )
    try:
        yield context
    finally:
        context.close()


def test_a_guest_files_and_tracks_a_request_in_spanish_on_a_phone(
    phone, browser_agency, axe_script
):
    from playwright.sync_api import expect

    axe = Axe(axe_script)
    with agency_context(browser_agency.agency):
        submission.request_submit(
            agency=browser_agency.agency,
            actor=None,
            title="Informes policiales de 2025",
            description="Todos los informes policiales del año 2025.",
            contact=submission.Contact(name="Otro Residente", email="otro@example.org"),
            channel="web",
        )
    email = f"ana-{uuid.uuid4().hex[:8]}@example.org"
    page = phone.new_page()

    # The agency's home page, in English for an English browser; the switch is in the header.
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.get_by_role("banner").get_by_role("button", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"
    axe.check(page, "agency home (es)", [PHONE])

    # The request form, from the main navigation.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Principal").get_by_role(
            "link", name="Hacer una solicitud", exact=True
        ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Pida registros públicos a Browser Test Agency"
    )
    # Before sending: who will read it (the agency's default, published), in Spanish.
    notice = page.locator("section.notice", has=page.get_by_role("heading", level=2))
    expect(notice.get_by_role("heading", name="Quién puede leer su solicitud")).to_be_visible()
    expect(notice).to_contain_text(
        "se publicará en el archivo público de este sitio en cuanto la envíe"
    )
    expect(notice).to_contain_text("Su nombre, correo electrónico, teléfono y dirección postal")
    axe.check(page, "request form (es)", [PHONE])

    # While they type, similar public requests (similar.js shows the fragment the server
    # renders in the page's language).
    page.get_by_label("Resumen de su solicitud").fill("Informes policiales")
    similar = page.locator("#similar-results")
    expect(similar).to_contain_text("Estas solicitudes públicas se parecen a la suya")
    expect(
        similar.get_by_role("link", name=re.compile("Informes policiales de 2025"))
    ).to_be_visible()

    page.get_by_label("Resumen de su solicitud").fill("Informes policiales de 100 Main St")
    page.get_by_label("¿Qué registros quiere?").fill(
        "Todos los informes de incidentes de 100 Main St de marzo de 2026."
    )
    page.get_by_label(re.compile(r"^Su nombre")).fill("Ana Residente")
    page.get_by_label(re.compile(r"^Correo electrónico")).fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar mi solicitud").click()

    # The confirmation, in Spanish.
    assert re.search(r"/requests/[^/]+/\?t=", page.url), page.url
    with agency_context(browser_agency.agency):
        filed = RecordsRequest.objects.get(requester_email=email)
    assert filed.language == "es"
    assert page.locator("html").get_attribute("lang") == "es"
    confirmation = page.get_by_role("status").filter(has_text="Recibimos su solicitud")
    expect(confirmation).to_contain_text(f"El número de su solicitud es {filed.number}")
    received = confirmation.text_content() or ""
    assert SPANISH_MOMENT.search(received), received
    next_steps = page.locator("section.next-steps")
    expect(next_steps.get_by_role("heading", name="Qué pasa ahora")).to_be_visible()
    with translation.override("es"):
        due = format_date(filed.due_date, "long_date")
    expect(next_steps).to_contain_text(f"Debe responder a más tardar el {due}")
    assert " de " in due
    keep = next_steps.get_by_role("heading", name="Guarde su enlace de seguimiento")
    expect(keep).to_be_visible()
    tracking_url = page.get_by_label("Enlace de seguimiento").input_value()
    assert "?t=" in tracking_url
    expect(next_steps.get_by_role("button", name="Copiar el enlace")).to_be_visible()
    axe.check(page, "confirmation (es)", [PHONE])

    # Later, the tracking link on the same phone: the request's page, in Spanish.
    later = phone.new_page()
    later.goto(tracking_url)
    assert later.locator("html").get_attribute("lang") == "es"
    expect(later.get_by_role("heading", level=1)).to_have_text(filed.title)
    expect(later.locator(".eyebrow")).to_have_text(f"Solicitud {filed.number}")
    facts = later.locator("dl.facts")
    expect(facts).to_contain_text("Recibida")
    received_on_page = facts.locator("dt:has-text('Recibida') + dd").text_content() or ""
    assert SPANISH_MOMENT.fullmatch(received_on_page.strip()), received_on_page
    expect(facts).to_contain_text("El plazo se cuenta desde")
    expect(later.get_by_role("heading", name="Enviar un mensaje a la agencia")).to_be_visible()
    expect(later.get_by_role("heading", name="Historial")).to_be_visible()
    expect(later.get_by_role("contentinfo")).to_contain_text(
        "Un portal de registros públicos de Browser Test Agency."
    )
    assert "Recibimos su solicitud" not in later.content()  # the confirmation shows once
    axe.check(later, "request page by tracking link (es)", [PHONE])

    # The confirmation email, in the language the request was filed in.
    [sent] = [m for m in mail.outbox if email in m.to]
    assert sent.subject == f"Browser Test Agency recibió la solicitud {filed.number}"
    assert "Número de solicitud:" in sent.body
    assert f"La agencia debe responder a más tardar el: {due}" in sent.body

    axe.assert_clean()
