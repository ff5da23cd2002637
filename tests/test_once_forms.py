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
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import once
from accounts.models import IdentityProvider, Invitation
from accounts.tenancy import agency_context
from billing import access as billing_access
from billing.models import FeeItem, Invoice, LineKind, Payment
from billing.services import invoices as billing_invoices
from billing.services import sending as billing_sending
from documents.models import Document, DocumentSettings, Redaction, RedactionReason
from documents.redaction import services as redaction_services
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
from residents.models import DataExport
from tests.documents.helpers import pdf_with_text, stored_document
from tests.form_helpers import form_values, token_of
from tests.requests_portal.helpers import file_request
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create

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


def first_of(ctx: Ctx, model) -> int:
    with agency_context(ctx.tenant.agency):
        return model.objects.filter(agency=ctx.tenant.agency).order_by("pk").first().pk


def staff(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(f"staff:{name}")


def on_request(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(f"staff:{name}", args=[ctx.request.number])


def request_page(ctx: Ctx) -> str:
    return reverse("staff:request_detail", args=[ctx.request.number])


def redact_page(ctx: Ctx) -> str:
    return reverse("staff:document_redact", args=[ctx.request.number, ctx.document.public_id])


def _invoice(ctx: Ctx, *, sent: bool = False) -> int:
    """The request's active invoice (a draft, or sent with one line), made on first use."""
    with agency_context(ctx.tenant.agency):
        found = billing_access.active_invoice(ctx.request)
        if found is None:
            found = billing_invoices.invoice_create(
                records_request=ctx.request, actor=ctx.tenant.admin
            )
            if sent:
                billing_invoices.invoice_line_add(
                    invoice=found,
                    actor=ctx.tenant.admin,
                    kind=LineKind.CUSTOM,
                    description="Copies",
                    unit_cents=2000,
                )
                billing_sending.invoice_send(invoice=found, actor=ctx.tenant.admin)
        return found.pk


def invoice_url(name: str, *, sent: bool = False) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(f"billing:{name}", args=[_invoice(ctx, sent=sent)])


def _webhook(ctx: Ctx) -> WebhookDelivery:
    """The agency's webhook address and one delivery of it, tried once (made on first use)."""
    with agency_context(ctx.tenant.agency):
        endpoint = WebhookEndpoint.objects.filter(agency=ctx.tenant.agency).first()
        if endpoint is None:
            endpoint, _secret = endpoint_create(
                agency=ctx.tenant.agency,
                actor=ctx.tenant.admin,
                url="http://127.0.0.1:9/hooks",
                chosen_events=["request.created"],
            )
            WebhookDelivery.objects.create(
                agency=ctx.tenant.agency,
                endpoint=endpoint,
                event="request.created",
                object_type="request",
                object_id=ctx.request.pk,
                payload={"type": "request.created"},
                attempts=1,
                last_status_code=500,
            )
        return WebhookDelivery.objects.get(agency=ctx.tenant.agency, endpoint=endpoint)


def webhook_page(ctx: Ctx) -> str:
    return reverse("staff:webhook_detail", args=[_webhook(ctx).endpoint_id])


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
        {"body": "Called the requester.", "kind": "internal"},
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
        "staff:webhook_active",
        webhook_page,
        lambda ctx: reverse("staff:webhook_active", args=[_webhook(ctx).endpoint_id]),
        count(WebhookEndpoint, is_active=False),
    ),
    Case(
        "staff:webhook_resend",
        webhook_page,
        lambda ctx: reverse("staff:webhook_resend", args=[_webhook(ctx).pk]),
        count(WebhookDelivery, attempts=0),
    ),
    Case(
        "staff:closure_reason_toggle",
        staff("closure_reasons"),
        lambda ctx: reverse("staff:closure_reason_toggle", args=[first_of(ctx, ClosureReason)]),
        count(ClosureReason, is_active=False),
    ),
    Case(
        "staff:request_type_toggle",
        staff("request_types"),
        lambda ctx: reverse("staff:request_type_toggle", args=[first_of(ctx, RequestType)]),
        count(RequestType, is_active=False),
    ),
    Case(
        "staff:custom_field_toggle",
        staff("custom_fields"),
        lambda ctx: reverse("staff:custom_field_toggle", args=[first_of(ctx, CustomField)]),
        count(CustomField, is_active=False),
    ),
    Case(
        "staff:request_task_done",
        request_page,
        lambda ctx: reverse(
            "staff:request_task_done", args=[ctx.request.number, first_of(ctx, Task)]
        ),
        count(Task, done_at__isnull=False),
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
        "resident_document_upload",
        lambda ctx: reverse("resident_document_upload", args=[ctx.request.number]),
        lambda ctx: reverse("resident_document_upload", args=[ctx.request.number]),
        count(Document, filename="notes.txt"),
        files=upload_file,
        user="requester",
    ),
    Case(
        "billing:fee_item_new",
        lambda ctx: reverse("billing:fee_schedule"),
        lambda ctx: reverse("billing:fee_item_new"),
        count(FeeItem, name="USB drive"),
        {"name": "USB drive", "kind": "media", "unit_cents": "7.99"},
    ),
    Case(
        "billing:invoice_new",
        request_page,
        lambda ctx: reverse("billing:invoice_new", args=[ctx.request.number]),
        count(Invoice),
    ),
    Case(
        "billing:invoice_line_add",
        invoice_url("invoice_edit"),
        invoice_url("invoice_line_add"),
        count(Invoice, subtotal_cents=300),
        {"kind": "custom", "description": "Postage", "quantity": "1", "unit_cents": "3.00"},
    ),
    Case(
        "billing:invoice_payment",
        invoice_url("invoice_edit", sent=True),
        invoice_url("invoice_payment", sent=True),
        count(Payment, amount_cents=1000),
        {"amount_cents": "10.00", "method": "cash", "reference": ""},
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
    Case(
        "residents:data",
        lambda ctx: reverse("residents:data"),
        lambda ctx: reverse("residents:data"),
        lambda ctx: DataExport.objects.filter(user=ctx.tenant.requester).count(),
        user="requester",
    ),
]


@pytest.fixture
def ctx(tenant) -> Ctx:
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        RedactionReason.objects.create(agency=tenant.agency, label="Privacy")
        DocumentSettings.objects.update_or_create(
            agency=tenant.agency, defaults={"requester_uploads": True}
        )
        RequestType.objects.create(
            agency=tenant.agency, name="Video", response_days=10, response_method="business"
        )
        CustomField.objects.create(agency=tenant.agency, label="Reference", kind="text")
    records_request = file_request(tenant, requester=tenant.requester)
    with agency_context(tenant.agency):
        Task.objects.create(agency=tenant.agency, request=records_request, title="Find files")
    return Ctx(tenant, records_request)


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
def test_a_creating_form_sent_twice_creates_once_and_shows_the_first_result(case, ctx, client_for):
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


def _views(resolver=None, prefix: str = ""):
    """(URL name, view) of every pattern, namespaces included."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _views(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}", pattern.callback


def _chain(view):
    while view is not None:
        yield view
        view = getattr(view, "__wrapped__", None)


def takes_post(view) -> bool:
    """Whether the view answers POST: its ``require_http_methods`` (``require_POST``...)
    lists it, or it has none and is a function, or a class-based view with ``post``."""
    for function in _chain(view):
        code = getattr(function, "__code__", None)
        for name, cell in zip(
            code.co_freevars if code else (), function.__closure__ or (), strict=True
        ):
            if name == "request_method_list":
                return "POST" in cell.cell_contents
    view_class = getattr(view, "view_class", None)
    return view_class is None or hasattr(view_class, "post")


def guarded(view) -> bool:
    return any(function.__dict__.get("once_per_form") for function in _chain(view))


def test_applying_the_redactions_twice_queues_one_job(ctx, client_for):
    ctx.document = stored_document(ctx.request, pdf_with_text("Ann Resident, 100 Main St"))
    client = browser(client_for, ctx.tenant.admin, ctx.tenant.host)
    box = {"page": "1", "left": "10", "top": "10", "width": "20", "height": "5"}
    page = client.get(redact_page(ctx))
    assert (
        client.post(
            redact_page(ctx), {**form_values(page, redact_page(ctx), {"action": "box"}), **box}
        ).status_code
        == 302
    )
    finalise = reverse(
        "staff:document_redact_finalise", args=[ctx.request.number, ctx.document.public_id]
    )
    values = form_values(client.get(redact_page(ctx)), finalise)
    token_of(values)
    with mock.patch.object(redaction_services.jobs, "apply_redactions") as queued:
        first = client.post(finalise, values)
        again = client.post(finalise, values)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert queued.call_count == 1
    assert once.ALREADY_SENT in client.get(again["Location"]).content.decode()


# Views that take a POST and are not guarded, each with why a repeat creates nothing twice.
OWN_KEY = "filing a request: its own one-time key (submission_key)"
SIGN_IN = "signs in or out, or checks a code: sessions, not things"
ONE_TIME_LINK = "the emailed link or assertion it uses works once"
REPLACES = "replaces the person's earlier one (the newest is the one that counts)"
SAVES_STATE = "saves settings or a state: the same post twice leaves the same state"
REFUSED_AGAIN = "a change of state: repeated, it is refused or finds nothing left to do"
REMOVES = "removes or retires one row"
ONE_OPEN = "one open at a time per person: a repeat is refused while the first is open"
DOWNLOAD = "a download button: each press is a download (a short-lived grant per press)"
PROTOCOL = "the resumable upload protocol: each upload has its own id"
CHECK = "tests the sign-in settings: stores nothing but its audit event"
SENDS = "sends an email and stores nothing (a second press sends another)"
PENDING = "confirms the set-up waiting in the session, which is then gone"
WEBHOOK = "Stripe's webhook: no form; each event is stored once by its id (WebhookEvent)"
MAIL_WEBHOOK = (
    "Mailgun's inbound webhook: no form; each signed post's token is used once, each email "
    "once per request by its Message-ID (InboundMail)"
)
API = "the REST API: JSON clients, no form to carry a one-time token (api/)"
NOT_GUARDED = {
    "request_new": OWN_KEY,
    "staff:request_new": OWN_KEY,
    "accounts:login": SIGN_IN,
    "accounts:logout": SIGN_IN,
    "set_language": SAVES_STATE,
    "accounts:mfa_verify": SIGN_IN,
    "accounts:mfa_step_up": SIGN_IN,
    "accounts:reauthenticate": SIGN_IN,
    "accounts:oidc_login": SIGN_IN,
    "accounts:link": SIGN_IN,
    "saml_login": SIGN_IN,
    "saml_acs": ONE_TIME_LINK,
    "saml_sls": SIGN_IN,
    "accounts:signup_confirm": ONE_TIME_LINK,
    "accounts:email_change_confirm": ONE_TIME_LINK,
    "accounts:invitation_accept": ONE_TIME_LINK,
    "accounts:password_reset_confirm": ONE_TIME_LINK,
    "accounts:email_change": REPLACES,
    "accounts:password_reset": SENDS,
    "accounts:mfa_setup": PENDING,
    "accounts:mfa_recovery_codes": REPLACES,
    "staff:invitation_resend": REPLACES,
    "accounts:profile": SAVES_STATE,
    "accounts:password_change": SAVES_STATE,
    "staff:settings": SAVES_STATE,
    "staff:notifications": SAVES_STATE,
    "staff:signin_settings": SAVES_STATE,
    "staff:contact_settings": SAVES_STATE,
    "staff:provider_edit": SAVES_STATE,
    "staff:department_edit": SAVES_STATE,
    "staff:department_member": SAVES_STATE,
    "staff:member_role": SAVES_STATE,
    "staff:request_route": SAVES_STATE,
    "staff:request_visibility": SAVES_STATE,
    "staff:request_due_date": SAVES_STATE,
    "staff:request_time_update": SAVES_STATE,
    "staff:document_release": SAVES_STATE,
    "staff:request_documents_release": SAVES_STATE,
    "staff:request_acknowledge": REFUSED_AGAIN,
    "staff:request_pause": REFUSED_AGAIN,
    "staff:request_resume": REFUSED_AGAIN,
    "staff:request_close": REFUSED_AGAIN,
    "staff:request_reopen": REFUSED_AGAIN,
    "staff:finding_resolve": REFUSED_AGAIN,
    "staff:request_description_review": REFUSED_AGAIN,
    "staff:member_deactivate": REFUSED_AGAIN,
    "staff:member_reactivate": REFUSED_AGAIN,
    "staff:member_unlock": REFUSED_AGAIN,
    "staff:member_mfa_reset": REFUSED_AGAIN,
    "staff:member_sessions_end": REFUSED_AGAIN,
    "staff:member_identity_unlink": REFUSED_AGAIN,
    "accounts:session_end": REFUSED_AGAIN,
    "accounts:sessions_end_others": REFUSED_AGAIN,
    "accounts:mfa_disable": REFUSED_AGAIN,
    "staff:invitation_revoke": REFUSED_AGAIN,
    "accounts:support_request": ONE_OPEN,
    "accounts:support_emergency": ONE_OPEN,
    "accounts:support_end": REFUSED_AGAIN,
    "staff:support_grant_approve": REFUSED_AGAIN,
    "staff:support_grant_deny": REFUSED_AGAIN,
    "staff:support_grant_revoke": REFUSED_AGAIN,
    "staff:holiday_remove": REMOVES,
    "staff:template_delete": REMOVES,
    "staff:provider_delete": REMOVES,
    "staff:redaction_reason_retire": REMOVES,
    "staff:redaction_remove": REMOVES,
    "staff:document_link": DOWNLOAD,
    "resident_document_link": DOWNLOAD,
    "staff:document_upload_start": PROTOCOL,
    "staff:document_upload_complete": PROTOCOL,
    "staff:document_upload_cancel": PROTOCOL,
    "resident_document_upload_start": PROTOCOL,
    "resident_document_upload_complete": PROTOCOL,
    "resident_document_upload_cancel": PROTOCOL,
    "staff:provider_test": CHECK,
    "billing:fee_schedule": SAVES_STATE,
    "billing:fee_item_edit": SAVES_STATE,
    "billing:fee_item_toggle": SAVES_STATE,
    "billing:staff_rate_new": REPLACES,
    "billing:staff_rate_remove": REMOVES,
    "billing:invoice_line_remove": REMOVES,
    "billing:invoice_staff_time": REFUSED_AGAIN,
    "billing:invoice_deposit": SAVES_STATE,
    "billing:invoice_waiver": SAVES_STATE,
    "billing:invoice_note": SAVES_STATE,
    "billing:invoice_send": REFUSED_AGAIN,
    "billing:invoice_void": REFUSED_AGAIN,
    "billing:stripe_webhook": WEBHOOK,
    "mailin:mailgun_inbound": MAIL_WEBHOOK,
    "billing:stripe_disconnect": REMOVES,
    "staff:webhook_delete": REMOVES,
    # The REST API's writes (docs/api.md "Retries"): filing carries its own submission_key;
    # actions repeated are refused by the same state checks as the web's; a message or an
    # upload sent twice is two (a client retries only what it got no answer for).
    "api:requests": OWN_KEY,
    "api:request_messages": API,
    "api:request_action": API,
    "api:request_documents": API,
    "api:request_document_link": DOWNLOAD,
    "api:not_found": "answers 404 to every method: stores nothing",
    "api_tokens:revoke": REFUSED_AGAIN,
    "api_tokens_staff:revoke": REFUSED_AGAIN,
    # Deleting one's account: repeated, the person is signed out and the account is gone.
    "residents:account_delete": REFUSED_AGAIN,
    # The REST API's data endpoints (JSON, no form to carry a one-time token; a client
    # retrying gets the service's refusal, never a second row).
    "api:departments": REFUSED_AGAIN,  # a second department of the same name is refused
    "api:invoices": REFUSED_AGAIN,  # one open invoice per request: a repeat is refused
    "api:person_deactivate": REFUSED_AGAIN,  # repeated, finds nothing left to do
    "api:invitations": REPLACES,  # one live invitation per address: the newest counts
}
# Guarded inside the view, where the body may be read: the simple upload form claims its
# token after the encrypting upload handler is installed (documents/upload/views.py, _page).
GUARDED_INSIDE = {"staff:document_upload", "resident_document_upload"}
# Guarded, and sent twice by a test of their own (tests/accounts/test_once.py;
# the redaction job below).
OWN_TESTS = {
    "accounts:signup",
    "staff:document_redact_finalise",
    # tests/billing/test_stripe_forms_twice.py
    "billing:invoice_pay",
    "billing:stripe_connect",
    "billing:invoice_refund",
    # tests/webhooks/test_views.py (their answer is the page that shows the secret once)
    "staff:webhook_list",
    "staff:webhook_rotate",
    # tests/ops/test_selfscan_runs.py (the operator's "run a self-scan now")
    "ops:scan_run_now",
    # tests/ops/test_agency_pages.py (the operators' "create an agency")
    "ops_agencies:new",
    # tests/ops/test_expunge_requests.py (an agency's expunge: record, approve, cancel, rerun)
    "ops:expunge_new",
    "ops:expunge_approve",
    "ops:expunge_cancel",
    "ops:expunge_rerun",
    # tests/mailin/test_mailbox_page.py (the reply mailbox settings)
    "staff:mailbox_settings",
    # tests/api/test_token_pages.py (a personal API token: its page shows the new token once)
    "api_tokens:list",
    # tests/ops/test_status_page.py (the platform's status incidents)
    "status_incidents",
    "status_incident_resolve",
}


def test_every_view_that_takes_a_post_is_guarded_or_says_why_not():
    """A new view that takes a POST fails here until it is guarded (``@once_per_form`` and
    a case above) or listed in NOT_GUARDED with its reason."""
    unclassified, stale = [], []
    for name, view in sorted(_views()):
        if not takes_post(view):
            continue
        is_guarded = guarded(view) or name in GUARDED_INSIDE
        if is_guarded and name in NOT_GUARDED:
            stale.append(f"{name} is guarded: take it out of NOT_GUARDED")
        if not is_guarded and name not in NOT_GUARDED:
            unclassified.append(name)
    assert unclassified == [], "guard these views with @once_per_form or say why not"
    assert stale == []


def test_every_guarded_view_is_sent_twice_by_a_test():
    posted = {case.view for case in CASES} | OWN_TESTS
    names = {name for name, view in _views() if guarded(view)} | GUARDED_INSIDE
    assert names - posted == set()
    assert posted - names == set()


def test_the_classifier_sees_methods_and_guards():
    from django.views.decorators.http import require_http_methods, require_POST

    from accounts.once import once_per_form

    @require_POST
    def post_only(request):
        return None

    @require_http_methods(["GET", "HEAD"])
    @once_per_form
    def read_only(request):
        return None

    assert takes_post(post_only) and not guarded(post_only)
    assert not takes_post(read_only) and guarded(read_only)
