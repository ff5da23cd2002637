"""A resident reading in Spanish: the confirmation and the request's page say everything in
Spanish, dates in Spanish order ("7 de dic de 2026, 09:14 CST"), and the public timeline
too, rebuilt in the reader's language from each entry, while the entry itself stays stored
in English (docs/translation.md: stored text is English)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.local_time import format_date, format_datetime, showing_times_of
from accounts.tenancy import agency_context
from requests_portal import timeline_text
from requests_portal.models import TimelineEvent
from requests_portal.services import clock, lifecycle
from tests.requests_portal.helpers import body_of, closure_reason, form_data, requests_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]

SPANISH_MOMENT = re.compile(r"\b\d{1,2} de [a-z]{3,4}\.? de \d{4}, \d{2}:\d{2} C[SD]T\b")


def _spanish(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client


def _file_in_spanish(tenant, client_for, django_capture_on_commit_callbacks):
    client = _spanish(client_for(None, tenant.host))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("request_new"), form_data())
    assert response.status_code == 302
    [filed] = requests_of(tenant)
    return client, response["Location"], filed


@pytest.mark.clock
def test_the_confirmation_reads_in_spanish_with_dates_in_spanish_order(
    tenant, client_for, django_capture_on_commit_callbacks
):
    client, location, filed = _file_in_spanish(
        tenant, client_for, django_capture_on_commit_callbacks
    )

    page = body_of(client.get(location))

    assert '<html lang="es">' in page
    with translation.override("es"), showing_times_of(tenant.agency):
        received = format_datetime(filed.received_at)
        due = format_date(filed.due_date, "long_date")
    # Day, month, year, then the 24-hour time and the agency's zone.
    assert SPANISH_MOMENT.fullmatch(received), received
    assert f"La recibimos el {received}." in page
    assert f"Debe responder a más tardar el <strong>{due}</strong>" in page
    assert re.fullmatch(r"[a-záéíóú]+ \d{1,2} de [a-z]+ de \d{4}", due), due
    assert "Recibimos su solicitud" in page
    assert "Guarde su enlace de seguimiento" in page
    assert "Cómo se cuenta el plazo" in page
    # Nothing of the English confirmation is left.
    for english in ("What happens next", "Your request number is", "Tracking link", "Timeline"):
        assert english not in page


@pytest.mark.clock
def test_the_public_timeline_is_spanish_for_a_spanish_reader_and_stored_in_english(
    tenant, client_for, django_capture_on_commit_callbacks
):
    client, location, filed = _file_in_spanish(
        tenant, client_for, django_capture_on_commit_callbacks
    )
    with agency_context(tenant.agency):
        lifecycle.request_acknowledge(records_request=filed, actor=tenant.admin)
        clock.request_extend(
            records_request=filed, actor=tenant.admin, days=5, reason="Mucho volumen"
        )
        filed.refresh_from_db()
        lifecycle.request_close(
            records_request=filed,
            actor=tenant.admin,
            reason=closure_reason(tenant, "Records released in full"),
        )
        stored = list(
            TimelineEvent.objects.filter(request=filed, is_public=True).values_list(
                "summary", flat=True
            )
        )
    # Stored in English, whatever the language of the page that filed it.
    assert stored[0].startswith("Request received (web form); due ")
    assert re.search(r"due [A-Z][a-z]+ \d{1,2}, \d{4}$", stored[0]), stored[0]
    assert any(s.startswith("Extended by 5 days: Mucho volumen; now due ") for s in stored)

    page = body_of(client.get(location))

    with translation.override("es"), agency_context(tenant.agency):
        filed.refresh_from_db()
        new_due = format_date(filed.due_date)
    assert "Solicitud recibida (formulario web); vence el " in page
    assert "La agencia confirmó que recibió la solicitud" in page
    assert f"Plazo extendido 5 días: Mucho volumen; ahora vence el {new_due}" in page
    assert "Cerrada: Records released in full" in page  # the outcome's name as the agency wrote it
    assert "Request received" not in page
    assert "Extended by" not in page


def test_an_entry_the_reader_cannot_have_rebuilt_is_shown_as_stored(tenant):
    event = TimelineEvent(kind="submitted", summary="Imported from the old system", data={})
    other = TimelineEvent(kind="something_new", summary="Something new happened", data={})
    with translation.override("es"):
        assert timeline_text.public_text(event) == "Imported from the old system"
        assert timeline_text.public_text(other) == "Something new happened"
    with translation.override("en"):
        paused = TimelineEvent(kind="paused", summary="Clock paused: waiting for a fee", data={})
        assert timeline_text.public_text(paused) == "Clock paused: waiting for a fee"
    with translation.override("es"):
        assert timeline_text.public_text(paused) == "Plazo en pausa: waiting for a fee"


@pytest.mark.clock
def test_a_paused_request_reads_in_spanish(tenant, client_for, django_capture_on_commit_callbacks):
    client, location, filed = _file_in_spanish(
        tenant, client_for, django_capture_on_commit_callbacks
    )
    with agency_context(tenant.agency):
        clock.request_pause(records_request=filed, actor=tenant.admin, reason="Esperando el pago")
        filed.refresh_from_db()

    page = body_of(client.get(location))

    days = filed.remaining_days
    assert days is not None and days > 1
    assert f"En pausa: Esperando el pago. Quedarán {days} días cuando vuelva a correr." in page
    assert "Plazo en pausa: Esperando el pago" in page  # the timeline entry
    assert "Clock paused" not in page
