"""The same request form sent twice (a double click, a retried post) files one request."""

import re
import threading
import uuid
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from accounts.local_time import agency_today
from accounts.models import Agency
from accounts.tenancy import agency_context
from requests_portal.models import RecordsRequest
from requests_portal.services import agency_settings, submission
from tests.db_helpers import run_in_committed_thread
from tests.requests_portal.helpers import (
    body_of,
    form_data,
    requests_of,
    set_request_settings,
)

pytestmark = pytest.mark.django_db

KEY_INPUT = re.compile(r'<input type="hidden" name="submission_key" value="([0-9a-f-]{36})"')


def key_of(response) -> str:
    (key,) = KEY_INPUT.findall(body_of(response))
    return key


def test_every_blank_form_carries_a_new_hidden_key(tenant, client_for):
    client = client_for(None, tenant.host)
    first, second = (key_of(client.get(reverse("request_new"))) for _ in range(2))
    assert first != second
    assert "submission_key" not in re.findall(
        r'<label for="id_(\w+)"', body_of(client.get(reverse("request_new")))
    )


def test_a_guest_sending_the_same_form_twice_files_one_request(tenant, client_for):
    set_request_settings(tenant, allow_anonymous=True)
    client = client_for(None, tenant.host)
    data = form_data(submission_key=key_of(client.get(reverse("request_new"))))
    first = client.post(reverse("request_new"), data)
    again = client.post(reverse("request_new"), data)
    assert first.status_code == again.status_code == 302
    # The same request's page (each answer signs its own tracking link, with its own time).
    assert urlsplit(first["Location"]).path == urlsplit(again["Location"]).path
    assert "?t=" in again["Location"]
    (filed,) = requests_of(tenant)
    assert filed.title == data["title"]


def test_a_signed_in_resident_sending_twice_files_one_request(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    data = form_data(email="", submission_key=key_of(client.get(reverse("request_new"))))
    assert client.post(reverse("request_new"), data).status_code == 302
    assert client.post(reverse("request_new"), data).status_code == 302
    assert len(requests_of(tenant)) == 1


def test_two_blank_forms_file_two_requests(tenant, client_for):
    set_request_settings(tenant, allow_anonymous=True)
    client = client_for(None, tenant.host)
    for _ in range(2):
        key = key_of(client.get(reverse("request_new")))
        assert client.post(reverse("request_new"), form_data(submission_key=key)).status_code == 302
    assert len(requests_of(tenant)) == 2


def test_a_key_sent_back_by_someone_else_files_nothing_and_reveals_nothing(tenant, client_for):
    set_request_settings(tenant, allow_anonymous=True)
    guest = client_for(None, tenant.host)
    data = form_data(submission_key=key_of(guest.get(reverse("request_new"))))
    guest.post(reverse("request_new"), data)
    (filed,) = requests_of(tenant)

    stranger = client_for(None, tenant.host)
    response = stranger.post(reverse("request_new"), {**data, "email": "eve@example.org"})
    assert response.status_code == 400
    assert "already used to file a request" in body_of(response)
    assert filed.number not in body_of(response)
    assert requests_of(tenant) == [filed]


def test_a_mangled_key_still_files_the_request(tenant, client_for):
    set_request_settings(tenant, allow_anonymous=True)
    client = client_for(None, tenant.host)
    response = client.post(reverse("request_new"), form_data(submission_key="not-a-key"))
    assert response.status_code == 302
    assert len(requests_of(tenant)) == 1


def test_staff_logging_the_same_form_twice_logs_one_request(tenant, client_for):
    client = client_for(tenant.admin, tenant.host)
    key = key_of(client.get(reverse("staff:request_new")))
    data = form_data(
        channel="phone", received_on=agency_today(tenant.agency).isoformat(), submission_key=key
    )
    first = client.post(reverse("staff:request_new"), data)
    again = client.post(reverse("staff:request_new"), data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert len(requests_of(tenant)) == 1


def test_the_same_key_sent_at_the_same_moment_files_one_request():
    # Rows committed from other threads outlive the test: an agency of its own, inactive.
    slug = f"twice-{uuid.uuid4().hex[:10]}"

    def create_agency():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            agency_settings.agency_setup_defaults(agency=agency, state="CA")
        return agency

    agency = run_in_committed_thread(create_agency)
    key = uuid.uuid4()
    senders = 4
    barrier = threading.Barrier(senders)
    outcomes: list = []

    def send():
        barrier.wait(timeout=60)
        with agency_context(agency):
            return submission.request_submit(
                agency=agency,
                actor=None,
                title="Sent twice",
                description="A double click.",
                contact=submission.Contact(name="Ann", email="ann@example.org"),
                channel="web",
                submission_key=key,
            ).pk

    def worker():
        try:
            outcomes.append(run_in_committed_thread(send))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            outcomes.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert len(set(outcomes)) == 1
    with agency_context(agency):
        assert RecordsRequest.objects.filter(agency=agency).count() == 1
