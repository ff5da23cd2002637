"""The public status page and the operators' incident notes (issue 13, monitoring)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from accounts import once
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from ops import monitoring
from ops.models import Incident
from ops.status_services import post_incident
from tests.conftest import mark_fully_signed_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PLATFORM = django_settings.PORTAL_BASE_DOMAIN


@pytest.fixture(autouse=True)
def _fresh_checks():
    monitoring.forget_public_checks()
    yield
    monitoring.forget_public_checks()


@pytest.fixture
def operator():
    return UserFactory(is_staff=True)


@pytest.fixture
def operator_client(operator) -> Client:
    client = Client(HTTP_HOST=PLATFORM)
    client.force_login(operator)
    mark_fully_signed_in(client)
    return client


def test_the_status_page_is_public_and_names_no_host(settings):
    response = Client(HTTP_HOST=PLATFORM).get("/status/")
    assert response.status_code == 200
    page = response.content.decode()
    for label in ("Database", "Cache", "Document storage", "Backups", "Audit log seals"):
        assert f'<th scope="row">{label}</th>' in page
    assert "Last complete backup" in page and "Last audit log seal" in page
    assert "None yet" in page  # no backup in this test's folder
    assert "Some systems have a problem" in page  # (no backup: the backup check fails)
    # No details of the checks: no paths, hosts or error text.
    assert str(settings.BACKUPS.local_root) not in page
    assert "no complete backup" not in page
    assert "127.0.0.1" not in page and "redis://" not in page


def test_the_status_page_belongs_to_the_platform_not_an_agency(tenant):
    assert Client(HTTP_HOST=tenant.host).get("/status/").status_code == 404


def test_times_are_in_utc_and_named(operator):
    incident = post_incident(
        operator=operator,
        title="Slow uploads",
        body="Uploads are slow.",
        status="identified",
        http_request=None,
    )
    page = Client(HTTP_HOST=PLATFORM).get("/status/").content.decode()
    created = incident.created_at.strftime("%Y-%m-%d %H:%M")
    assert f">{created} UTC</time>" in page
    assert "Identified" in page


def test_an_operator_posts_and_resolves_an_incident_seen_escaped_on_the_status_page(
    operator, operator_client
):
    page = operator_client.get("/status/incidents/")
    assert page.status_code == 200
    response = operator_client.post(
        "/status/incidents/",
        {
            "title": "Search <script>alert(1)</script> down",
            "body": "We are on it.\nNext update at noon.",
            "status": "investigating",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.posted_by == operator and incident.resolved_at is None

    public = Client(HTTP_HOST=PLATFORM).get("/status/").content.decode()
    assert "Search &lt;script&gt;alert(1)&lt;/script&gt; down" in public
    assert "<script>alert(1)" not in public
    assert "We are on it.<br>Next update at noon." in public
    assert "Mark resolved" not in public  # residents see no operator buttons

    response = operator_client.post(f"/status/incidents/{incident.pk}/resolve/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at is not None
    public = Client(HTTP_HOST=PLATFORM).get("/status/").content.decode()
    assert "There are no current incidents." in public
    assert "Resolved in the last 14 days" in public and "Search &lt;script&gt;" in public

    with agency_context(None, platform=True):
        actions = list(
            AuditEvent.objects.filter(
                agency__isnull=True, target_type="ops.incident", target_id=str(incident.pk)
            )
            .order_by("id")
            .values_list("action", "actor_id")
        )
    assert actions == [
        ("status.incident_posted", operator.pk),
        ("status.incident_resolved", operator.pk),
    ]


def test_a_bad_form_shows_errors_not_a_500(operator_client):
    response = operator_client.post("/status/incidents/", {"title": "", "status": "resolved"})
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_resolving_twice_or_an_unknown_incident_is_refused(operator, operator_client):
    incident = post_incident(
        operator=operator, title="x", body="y", status="monitoring", http_request=None
    )
    operator_client.post(f"/status/incidents/{incident.pk}/resolve/")
    response = operator_client.post(f"/status/incidents/{incident.pk}/resolve/", follow=True)
    assert "already resolved" in response.content.decode()
    assert operator_client.post("/status/incidents/99999/resolve/").status_code == 302
    assert operator_client.get("/status/incidents/99999/resolve/").status_code == 405


def test_only_operators_with_a_second_factor_reach_the_incidents(tenant, client_for, operator):
    anonymous = Client(HTTP_HOST=PLATFORM)
    assert anonymous.get("/status/incidents/").status_code == 302  # to sign in
    assert anonymous.post("/status/incidents/", {"title": "x"}).status_code == 302
    member = Client(HTTP_HOST=PLATFORM)
    member.force_login(tenant.admin)
    mark_fully_signed_in(member)
    assert member.get("/status/incidents/").status_code == 404
    assert member.post("/status/incidents/", {"title": "x", "body": "y"}).status_code == 404
    no_second_factor = Client(HTTP_HOST=PLATFORM)
    no_second_factor.force_login(operator)
    response = no_second_factor.get("/status/incidents/")
    assert response.status_code == 302 and "two-factor" in response["Location"]
    # An operator on an agency's host (outsider view): not there.
    assert client_for(operator, tenant.host).get("/status/incidents/").status_code == 404
    assert Incident.objects.count() == 0


def test_visitors_reloading_the_page_do_not_rerun_the_checks(monkeypatch):
    calls = []
    real = monitoring.run_checks
    monkeypatch.setattr(monitoring, "run_checks", lambda: calls.append(1) or real())
    for _ in range(3):
        assert Client(HTTP_HOST=PLATFORM).get("/status/").status_code == 200
    assert len(calls) == 1


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, name
    return match.group(1)


def test_posting_or_resolving_twice_with_one_form_does_it_once(operator):
    """The one-time form tokens of both forms (listed in tests/test_once_forms.py OWN_TESTS)."""
    client = Client(HTTP_HOST=PLATFORM, enforce_csrf_checks=True)
    client.force_login(operator)
    mark_fully_signed_in(client)
    page = client.get("/status/incidents/").content.decode()
    values = {
        "csrfmiddlewaretoken": _hidden(page, "csrfmiddlewaretoken"),
        once.FIELD: _hidden(page, once.FIELD),
        "title": "Mail delayed",
        "body": "Notices are late.",
        "status": "investigating",
    }
    first = client.post("/status/incidents/", values)
    again = client.post("/status/incidents/", values)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Incident.objects.count() == 1
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()

    incident = Incident.objects.get()
    page = client.get("/status/incidents/").content.decode()
    resolve = {
        "csrfmiddlewaretoken": _hidden(page, "csrfmiddlewaretoken"),
        once.FIELD: re.findall(rf'name="{once.FIELD}" value="([^"]+)"', page)[-1],
    }
    url = f"/status/incidents/{incident.pk}/resolve/"
    first, again = client.post(url, resolve), client.post(url, resolve)
    assert again["Location"] == first["Location"]
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()
    with agency_context(None, platform=True):
        resolved = AuditEvent.objects.filter(action="status.incident_resolved").count()
    assert resolved == 1
