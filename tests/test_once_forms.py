"""Every form that creates something, sent twice (a double click, a retried post), creates it
once (accounts.once; request filing has its own key: tests/requests_portal/
test_submission_key.py).

Each case is sent as a browser sends it: the page is fetched, its form's fields (the CSRF
token and the one-time token among them) are read from the HTML and posted, twice, by a
client that enforces CSRF (so the one-time token is enforced too). A form whose template
lost ``{% once_token %}`` fails here. ``test_every_view_that_takes_a_post_is_classified``
walks the URL patterns so that a new creating view cannot be added unguarded unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import once
from accounts.models import IdentityProvider, Invitation
from accounts.tenancy import agency_context
from documents.models import Document, Redaction, RedactionReason
from requests_portal.models import (
    ClosureReason,
    CustomField,
    Department,
    Holiday,
    Message,
    RequestTag,
    RequestType,
    ResponseTemplate,
    Task,
    TimeEntry,
    TimelineEvent,
)
from requests_portal.services import agency_settings
from tests.documents.helpers import pdf_with_text, stored_document
from tests.form_helpers import form_values, token_of
from tests.requests_portal.helpers import file_request

pytestmark = pytest.mark.django_db

@dataclass
class Ctx:
    tenant: object
    request: object
    document: object = None


def count(model, **filters) -> Callable[[Ctx], int]:
    def counted(ctx: Ctx) -> int:
        with agency_context(ctx.tenant.agency):
            return model.objects.filter(agency=ctx.tenant.agency, **filters).count()

    return counted


def staff(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(f"staff:{name}")


def on_request(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(f"staff:{name}", args=[ctx.request.number])


def request_page(ctx: Ctx) -> str:
    return reverse("staff:request_detail", args=[ctx.request.number])


def redact_page(ctx: Ctx) -> str:
    return reverse("staff:document_redact", args=[ctx.request.number, ctx.document.public_id])


def upload_file() -> dict:
    return {"files": SimpleUploadedFile("notes.txt", b"Meeting notes\n", "text/plain")}


@dataclass
class Case:
    """``view``: the URL name the form posts to; ``values``: what the person types (the
    rest comes from the page); ``having``: picks one of several forms posting there."""

    view: str
    page: Callable[[Ctx], str]
    action: Callable[[Ctx], str]
    created: Callable[[Ctx], int]
    values: dict = field(default_factory=dict)
    having: dict = field(default_factory=dict)
    files: Callable[[], dict] | None = None
    user: str = "admin"
    needs_document: bool = False


CASES = [
    Case(
        "staff:holidays",
        staff("holidays"),
        staff("holidays"),
        count(Holiday, name="Founders' Day"),
        {"date": "2026-08-03", "name": "Founders' Day"},
    ),
    Case(
        "staff:holidays_load_defaults",
        staff("holidays"),
        staff("holidays_load_defaults"),
        count(Holiday, date__year=2031),
        {"year": "2031"},
    ),
    Case(
        "staff:closure_reasons",
        staff("closure_reasons"),
        staff("closure_reasons"),
        count(ClosureReason, name="Withdrawn by phone"),
        {"name": "Withdrawn by phone"},
    ),
    Case(
        "staff:department_new",
        staff("department_new"),
        staff("department_new"),
        count(Department, name="Parks"),
        {"name": "Parks"},
    ),
    Case(
        "staff:templates",
        staff("templates"),
        staff("templates"),
        count(ResponseTemplate, name="Thanks"),
        {"name": "Thanks", "body": "Thank you for your request."},
    ),
    Case(
        "staff:request_types",
        staff("request_types"),
        staff("request_types"),
        count(RequestType, name="Body camera video"),
        {"name": "Body camera video", "response_days": "20"},
    ),
    Case(
        "staff:custom_fields",
        staff("custom_fields"),
        staff("custom_fields"),
        count(CustomField, label="Case number"),
        {"label": "Case number"},
    ),
    Case(
        "staff:member_invite",
        staff("member_invite"),
        staff("member_invite"),
        count(Invitation, email="new.clerk@example.org"),
        {"email": "new.clerk@example.org"},
    ),
    Case(
        "staff:provider_new",
        lambda ctx: reverse("staff:provider_new", args=["google"]),
        lambda ctx: reverse("staff:provider_new", args=["google"]),
        count(IdentityProvider),
        {
            "name": "City Google",
            "client_id": "city-client",
            "client_secret": "city-secret",
            "hosted_domain": "springfield.gov",
        },
    ),
    Case(
        "staff:request_message",
        request_page,
        on_request("request_message"),
        count(Message, body="Called the requester."),
        {"body": "Called the requester."},
    ),
    Case(
        "staff:request_task_add",
        request_page,
        on_request("request_task_add"),
        count(Task, title="Ask Parks for the files"),
        {"task-title": "Ask Parks for the files"},
    ),
    Case(
        "staff:request_time_log",
        request_page,
        on_request("request_time_log"),
        count(TimeEntry, minutes=25),
        {"time-minutes": "25"},
    ),
    Case(
        "staff:request_extend",
        request_page,
        on_request("request_extend"),
        count(TimelineEvent, kind="extended"),
        {"extend-days": "5", "extend-reason": "Records are in storage."},
    ),
    Case(
        "staff:request_tags",
        request_page,
        on_request("request_tags"),
        count(RequestTag),
        {"tags-tags": "police, video"},
    ),
    Case(
        "request_reply",
        lambda ctx: reverse("request_detail", args=[ctx.request.number]),
        lambda ctx: reverse("request_reply", args=[ctx.request.number]),
        count(Message, body="Any news?"),
        {"body": "Any news?"},
        user="requester",
    ),
    Case(
        "staff:document_settings",
        staff("document_settings"),
        staff("document_settings"),
        count(RedactionReason, label="Gov. Code 7927.700"),
        {"label": "Gov. Code 7927.700"},
        having={"form": "reason"},
    ),
    Case(
        "staff:document_upload",
        lambda ctx: reverse("staff:document_upload", args=[ctx.request.number]),
        lambda ctx: reverse("staff:document_upload", args=[ctx.request.number]),
        count(Document, filename="notes.txt"),
        files=upload_file,
    ),
    Case(
        "staff:document_redact",
        redact_page,
        redact_page,
        count(Redaction),
        {"page": "1", "left": "10", "top": "10", "width": "20", "height": "5"},
        having={"action": "box"},
        needs_document=True,
    ),
]


@pytest.fixture
def ctx(tenant) -> Ctx:
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        RedactionReason.objects.create(agency=tenant.agency, label="Privacy")
    return Ctx(tenant, file_request(tenant, requester=tenant.requester))


def browser(client_for, user, host):
    """A client that enforces CSRF as a browser's server does (and so the form tokens)."""
    client = client_for(user, host)
    client.handler.enforce_csrf_checks = True
    return client


def _send(client, case: Case, ctx: Ctx, values: dict):
    data = dict(values)
    if case.files is not None:
        data.update(case.files())
    return client.post(case.action(ctx), data)


def _filled(client, case: Case, ctx: Ctx) -> dict:
    page = client.get(case.page(ctx))
    assert page.status_code == 200, page.content[:500]
    values = form_values(page, case.action(ctx), case.having)
    token_of(values)
    return {**values, **case.values}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.view)
def test_a_creating_form_sent_twice_creates_once_and_shows_the_first_result(
    case, ctx, client_for
):
    if case.needs_document:
        ctx.document = stored_document(ctx.request, pdf_with_text("Ann Resident, 100 Main St"))
    client = browser(client_for, getattr(ctx.tenant, case.user), ctx.tenant.host)
    values = _filled(client, case, ctx)
    before = case.created(ctx)

    first = _send(client, case, ctx, values)
    assert first.status_code in (302, 303), first.content.decode()[:2000]
    created = case.created(ctx)
    assert created > before
    again = _send(client, case, ctx, values)

    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert case.created(ctx) == created
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()
