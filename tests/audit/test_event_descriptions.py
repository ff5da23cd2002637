"""The audit log reads as sentences: every event type the code base records has a label, a
category and a sentence; pages are named by their titles; the filter is grouped by kind and
shows words, not codes; the CSV keeps the codes and adds the sentence."""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Membership
from accounts.tenancy import agency_context
from audit import registry, selectors
from audit.models import AuditEvent
from requests_portal.models import MessageKind
from requests_portal.services import agency_settings, messaging
from tests.factories import TEST_PASSWORD
from tests.requests_portal.helpers import file_request

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "audit", "requests_portal", "documents", "billing", "api", "config", "vault")
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _product_sources() -> list[Path]:
    return [
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def _recorded_codes() -> tuple[set[str], set[str]]:
    """(codes passed as string literals to audit.record / record_for / register,
    names of event constants used as ``audit_events.NAME``) across the product code."""
    literals: set[str] = set()
    constants: set[str] = set()
    for path in _product_sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                first = node.args[0] if node.args else None
                if (
                    name in {"record", "record_for", "register", "_record", "_event"}
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and CODE.match(first.value)
                ):
                    literals.add(first.value)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "audit_events"
                and node.attr.isupper()
            ):
                constants.add(node.attr)
    return literals, constants


def test_every_event_code_in_the_code_base_has_a_label_a_category_and_a_sentence():
    from accounts import audit_events as accounts_events
    from api import audit_events as api_events
    from audit import audit_events as audit_log_events
    from billing import audit_events as billing_events
    from documents import audit_events as documents_events
    from mailin import audit_events as mailin_events
    from ops import audit_events as ops_events
    from requests_portal import audit_events as requests_events
    from residents import audit_events as residents_events
    from webhooks import audit_events as webhooks_events

    literals, constants = _recorded_codes()
    assert len(literals) > 50  # the scan found the registrations
    for code in literals:
        event_type = registry.get(code)  # registered, or LookupError
        assert event_type.label, code
        assert event_type.category is not registry.OTHER, code
    modules = (
        accounts_events,
        requests_events,
        documents_events,
        billing_events,
        audit_log_events,
        api_events,
        mailin_events,
        ops_events,
        residents_events,
        webhooks_events,
    )
    for constant in constants:
        found = [getattr(m, constant) for m in modules if hasattr(m, constant)]
        assert found, f"audit_events.{constant} is used but defined nowhere"
        for event_type in found:
            if isinstance(event_type, registry.EventType):
                assert event_type.label and event_type.category is not registry.OTHER
    for event_type in registry.all_event_types():
        if not event_type.code.startswith("test."):
            assert event_type.label, event_type.code
            assert event_type.category is not registry.OTHER, event_type.code
            assert not CODE.match(event_type.label)


def _url_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_named_page_has_a_title_for_the_audit_log():
    titles = registry.page_titles()
    missing = sorted(_url_names(get_resolver()) - set(titles) - {"healthz"})
    assert missing == []


def test_a_page_title_is_filled_from_the_url_and_an_untitled_one_still_reads_as_words():
    assert registry.page_title("staff:request_detail", {"number": "26-7"}) == "request 26-7"
    assert registry.page_title("staff:request_detail", {}) == "request"
    assert registry.page_title("staff:no_such_page_here") == "no such page here"


def test_an_event_of_an_unregistered_type_reads_as_words():
    event = AuditEvent(action="legacy.thing_done", details={}, ip="192.0.2.1")
    row = selectors.describe_one(event, {}, {})
    assert row["sentence"] == "Legacy: thing done (Someone)"
    assert row["category"] == "Other"


def _log(client, **query) -> str:
    response = client.get(reverse("staff:audit_log"), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_log_shows_sentences_naming_people_pages_and_requests_not_codes(
    tenant, client_for, django_capture_on_commit_callbacks
):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        membership = Membership.objects.get(agency=tenant.agency, user=tenant.staff)
    records_request = file_request(tenant, email="resident@example.test")
    with agency_context(tenant.agency), django_capture_on_commit_callbacks():
        messaging.request_message(
            records_request=records_request,
            actor=tenant.admin,
            kind=MessageKind.TO_REQUESTER,
            body="Your records are ready.",
        )
    tenant.admin.full_name = "Maria Lopez"
    tenant.admin.save(update_fields=["full_name"])
    guest = client_for(None, tenant.host)
    guest.post("/accounts/login/", {"username": tenant.staff.email, "password": "wrong-one!"})
    guest.post("/accounts/login/", {"username": tenant.staff.email, "password": TEST_PASSWORD})
    admin = client_for(tenant.admin, tenant.host)
    admin.get(reverse("staff:member_role", args=[membership.pk]))
    admin.get(reverse("staff:request_detail", args=[records_request.number]))

    page = _log(admin)
    number = records_request.number
    assert f"Maria Lopez sent a message to the requester on request {number}" in page
    assert "Maria Lopez opened the page to change a member&#x27;s role" in page
    assert f"Maria Lopez opened request {number}" in page
    assert "signed in with a password" in page
    assert f"Failed sign-in as {tenant.staff.email} (wrong password or unknown address)" in page
    assert f"filed request {number} on the web form" in page
    # No developer text: no URL names, no message kinds, no dotted codes in the rows.
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "staff:" not in rows
    assert "to_requester" not in rows
    assert not re.search(r"\b(auth|page|request|users)\.[a-z_]+\b", rows)


@pytest.mark.django_db
def test_the_filter_is_grouped_by_kind_with_words_and_filters_by_kind_or_event(tenant, client_for):
    guest = client_for(None, tenant.host)
    guest.post("/accounts/login/", {"username": tenant.staff.email, "password": TEST_PASSWORD})
    admin = client_for(tenant.admin, tenant.host)
    admin.get(reverse("staff:member_list"))

    page = _log(admin)
    assert '<optgroup label="Sign-in and sessions">' in page
    assert '<optgroup label="People and roles">' in page
    assert '<option value="auth.login">Signed in</option>' in page
    assert '<option value="signin">Sign-in and sessions</option>' in page
    # The select's visible text is never a code.
    for label in re.findall(r"<option value=\"[^\"]*\"[^>]*>([^<]*)</option>", page):
        assert not CODE.match(label), label

    sign_ins = _log(admin, category="signin")
    assert "signed in with a password" in sign_ins
    assert "opened the list of staff" not in sign_ins
    assert '<option value="signin" selected>' in sign_ins
    page_views = _log(admin, action="page.view")
    assert "opened the list of staff" in page_views
    assert "signed in with" not in page_views
    # An unknown filter shows everything rather than failing.
    everything = _log(admin, category="nonsense", action="no.such")
    assert "signed in with a password" in everything
    assert "opened the list of staff" in everything


@pytest.mark.django_db
def test_the_csv_keeps_codes_and_adds_the_category_and_the_sentence(tenant, client_for):
    guest = client_for(None, tenant.host)
    guest.post("/accounts/login/", {"username": tenant.staff.email, "password": TEST_PASSWORD})
    admin = client_for(tenant.admin, tenant.host)
    response = admin.get(reverse("staff:audit_export"))
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    [login] = [row for row in rows if row["action"] == "auth.login"]
    assert login["actor_id"] == str(tenant.staff.pk)
    assert login["category"] == "Sign-in and sessions"
    assert login["description"] == f"{tenant.staff} signed in with a password"
