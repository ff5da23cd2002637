"""A request remembers the language it was filed in, and every email to its requester is
written in it, whoever triggers the email and in whatever language their page is; staff
notices follow the staff member's own language (English unless they chose)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from accounts.tenancy import agency_context
from requests_portal.models import MessageKind
from requests_portal.services import messaging
from tests.requests_portal.helpers import form_data, mail_to, requests_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def _file_in(language, tenant, client_for, django_capture_on_commit_callbacks):
    client = client_for(None, tenant.host)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("request_new"), form_data())
    assert response.status_code == 302
    [filed] = requests_of(tenant)
    return filed


def test_a_guest_who_files_in_spanish_gets_the_confirmation_in_spanish(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = _file_in("es", tenant, client_for, django_capture_on_commit_callbacks)

    assert filed.language == "es"
    [email] = mail_to("ann@example.org")
    assert email.subject == f"{tenant.agency.name} recibió la solicitud {filed.number}"
    assert "Número de solicitud:" in email.body
    assert "La agencia debe responder a más tardar el:" in email.body
    [(html, _mime)] = email.alternatives
    assert "Siga su solicitud</a>" in html
    # The due date is written the Spanish way too ("lunes 4 de enero de 2027").
    with translation.override("es"):
        due = date_format(filed.due_date, r"l j \d\e F \d\e Y")
    assert f"La agencia debe responder a más tardar el: {due}" in email.body
    assert " de " in due


def test_a_guest_who_files_in_english_gets_english(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = _file_in("en", tenant, client_for, django_capture_on_commit_callbacks)

    assert filed.language == "en"
    [email] = mail_to("ann@example.org")
    assert email.subject == f"Request {filed.number} received by {tenant.agency.name}"


def test_a_message_staff_send_from_an_english_page_reaches_a_spanish_requester_in_spanish(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = _file_in("es", tenant, client_for, django_capture_on_commit_callbacks)

    with (
        translation.override("en"),
        agency_context(tenant.agency),
        django_capture_on_commit_callbacks(execute=True),
    ):
        messaging.request_message(
            records_request=filed,
            actor=tenant.admin,
            kind=MessageKind.TO_REQUESTER,
            body="Please narrow the dates.",
        )

    email = mail_to("ann@example.org")[-1]
    assert email.subject == (
        f"Nuevo mensaje de {tenant.agency.name} sobre la solicitud {filed.number}"
    )
    assert "le envió un mensaje sobre la solicitud" in email.body
    assert "Please narrow the dates." in email.body


def test_staff_notices_of_a_spanish_request_stay_in_the_staff_language(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = _file_in("es", tenant, client_for, django_capture_on_commit_callbacks)

    staff_notices = mail_to(tenant.admin.email)
    assert staff_notices, "the admins hear of a request with no department"
    assert all("recibió" not in m.subject for m in staff_notices)
    assert any(filed.number in m.subject for m in staff_notices)


@pytest.mark.parametrize(
    ("template", "spanish"),
    [
        ("closed", "cerró la solicitud"),
        ("extended", "extendió el plazo de la solicitud"),
        ("message", "le envió un mensaje sobre la solicitud"),
        ("submitted", "recibió su solicitud de registros públicos"),
    ],
)
def test_every_requester_email_renders_in_spanish(
    template, spanish, tenant, client_for, django_capture_on_commit_callbacks
):
    filed = _file_in("es", tenant, client_for, django_capture_on_commit_callbacks)
    context = {
        "r": filed,
        "agency": tenant.agency,
        "link": "https://example.org/x",
        "days": 5,
        "reason": "Mucho volumen",
        "message": {"body": "Hola"},
        "note": "",
    }
    with translation.override("es"):
        parts = [
            render_to_string(f"requests_portal/email/{template}{suffix}", context)
            for suffix in ("_subject.txt", ".txt", ".html")
        ]
    assert all(part.strip() for part in parts)
    assert spanish in parts[1] and spanish in parts[2]
