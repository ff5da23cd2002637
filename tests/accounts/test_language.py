"""The language switch on every page: it sets the language cookie and comes back to the same
page, now in Spanish (``<html lang="es">``); a signed-in person's choice is stored, and the
emails about their account follow it whatever page they were sent from."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.accounts.identity_helpers import events

pytestmark = pytest.mark.django_db

SWITCH = reverse("set_language")


def _stored_language(user) -> str:
    return User.objects.get(pk=user.pk).language


def test_switching_to_spanish_sets_the_cookie_and_returns_to_the_same_page_in_spanish(tenant):
    client = Client(HTTP_HOST=tenant.host)
    archive = reverse("archive") + "?q=budget"

    response = client.post(SWITCH, {"language": "es", "next": archive})

    assert response.status_code == 302
    assert response["Location"] == archive
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get(response["Location"]).content.decode()
    assert '<html lang="es">' in page
    assert "Archivo de registros públicos" in page
    assert "Ir al contenido principal" in page
    # The switch now offers the way back, named in its own language.
    assert 'name="language" value="en" lang="en">English</button>' in page
    # The choice is remembered on the next page too.
    assert '<html lang="es">' in client.get(reverse("home")).content.decode()


def test_every_page_offers_the_switch_back_to_its_own_address(tenant):
    page = Client(HTTP_HOST=tenant.host).get(reverse("archive") + "?page=1").content.decode()

    assert '<html lang="en">' in page
    assert f'action="{SWITCH}"' in page
    assert 'name="next" value="/archive/?page=1"' in page
    assert 'name="language" value="es" lang="es">Español</button>' in page


def test_the_browser_language_is_used_until_the_person_chooses(tenant):
    client = Client(HTTP_HOST=tenant.host, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")

    assert '<html lang="es">' in client.get(reverse("archive")).content.decode()
    client.post(SWITCH, {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get(reverse("archive")).content.decode()


def test_a_signed_in_persons_choice_is_stored_and_audited(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)

    client.post(SWITCH, {"language": "es", "next": "/"})
    assert _stored_language(tenant.requester) == "es"
    [event] = events(tenant.agency, "account.language_changed")
    assert event.details == {"language": "es"}

    client.post(SWITCH, {"language": "en", "next": "/"})
    assert _stored_language(tenant.requester) == "en"


def test_a_language_the_portal_does_not_offer_changes_nothing(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)

    response = client.post(SWITCH, {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert _stored_language(tenant.requester) == ""


def test_the_switch_never_sends_anyone_to_another_site(tenant):
    response = Client(HTTP_HOST=tenant.host).post(
        SWITCH, {"language": "es", "next": "https://elsewhere.example/"}
    )

    assert response.status_code == 302
    assert "elsewhere.example" not in response["Location"]


def test_the_switch_works_on_the_platform_host_and_only_by_post(db):
    client = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)

    assert client.get(SWITCH).status_code == 405
    client.post(SWITCH, {"language": "es", "next": "/"})
    assert '<html lang="es">' in client.get("/").content.decode()


def test_a_password_reset_email_is_in_the_accounts_language_not_the_pages(
    tenant, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=tenant.requester.pk).update(language="es")

    with django_capture_on_commit_callbacks(execute=True):
        Client(HTTP_HOST=tenant.host).post(
            reverse("accounts:password_reset"), {"email": tenant.requester.email}
        )

    [email] = [m for m in mail.outbox if tenant.requester.email in m.to]
    assert email.subject.startswith("Restablezca su contraseña")
    assert "Si fue usted, elija una nueva contraseña" in email.body


def test_signing_up_from_a_spanish_page_writes_the_emails_in_spanish_and_keeps_the_choice(
    tenant, django_capture_on_commit_callbacks
):
    client = Client(HTTP_HOST=tenant.host)
    client.post(SWITCH, {"language": "es", "next": "/"})
    password = "quartz-lantern-pivot-8812"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"),
            {
                "full_name": "Ana Residente",
                "email": "ana@example.org",
                "password1": password,
                "password2": password,
            },
        )

    [email] = [m for m in mail.outbox if "ana@example.org" in m.to]
    assert email.subject == "Confirme su correo electrónico para crear su cuenta"
    link = next(word for word in email.body.split() if "/signup/confirm/" in word)
    client.post(link.split(tenant.host, 1)[1])
    assert User.objects.get(email="ana@example.org").language == "es"


def test_a_stored_choice_follows_the_person_to_a_new_browser_until_it_sets_its_own(
    tenant, client_for
):
    User.objects.filter(pk=tenant.requester.pk).update(language="es")
    client = client_for(User.objects.get(pk=tenant.requester.pk), tenant.host)

    assert '<html lang="es">' in client.get(reverse("my_requests")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="en">' in client.get(reverse("my_requests")).content.decode()


@pytest.mark.parametrize(
    ("url", "spanish"),
    [
        (reverse("home"), "Hacer una solicitud de registros"),
        (reverse("accounts:login"), "¿Olvidó su contraseña?"),
        (reverse("accounts:signup"), "Repita la contraseña"),
        (reverse("accounts:password_reset"), "Enviar el enlace"),
        (reverse("accounts:password_reset_done"), "Revise su correo electrónico"),
        (reverse("archive"), "Cualquier departamento"),
        ("/no-such-page/", "Página no encontrada"),
    ],
)
def test_resident_pages_render_in_spanish(tenant, url, spanish):
    client = Client(HTTP_HOST=tenant.host)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    page = client.get(url).content.decode()

    assert '<html lang="es">' in page
    assert spanish in page
