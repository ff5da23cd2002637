"""The project's URL configuration as a table of routes, and how to visit each as a signed-in
member of a test agency: real objects of that agency for every path parameter.

Shared by the permission matrix (test_views_permissions) and the two-factor policy tests
(test_mfa), which both walk every staff URL.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.http import Http404, HttpResponseNotAllowed
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone

from accounts import policy
from accounts.models import (
    ExternalIdentity,
    IdentityProvider,
    Invitation,
    Membership,
    ProviderKind,
    Role,
)
from accounts.tenancy import agency_context
from requests_portal.models import (
    ClosureReason,
    CustomField,
    Department,
    DepartmentMember,
    Holiday,
    RecordsRequest,
    RequestType,
    ResponseTemplate,
    Task,
    TimeEntry,
    Visibility,
)
from requests_portal.services import submission

# --- The URL configuration, walked -----------------------------------------------------------

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern of the project, with the route and converters of all its parents."""

    name: str | None
    route: str
    callback: Callable = field(compare=False)
    converters: dict = field(compare=False, hash=False)

    @property
    def permission(self) -> policy.Permission | None:
        return getattr(self.callback, "required_permission", None)

    @property
    def is_staff(self) -> bool:
        return self.route.startswith("staff/")

    @property
    def parameters(self) -> list[str]:
        return [m["name"] for m in _PARAMETER.finditer(self.route)]

    @property
    def label(self) -> str:
        return self.name or self.route

    @property
    def allowed_methods(self) -> frozenset[str] | None:
        """The HTTP methods the view's outermost ``require_http_methods`` admits, or None
        when the view declares no method restriction there. Found by offering the view a
        method nobody allows: a method guard answers 405 (with Allow) before anything else
        runs; without one, the permission decorator refuses the agency-less probe (404)."""
        probe = RequestFactory().generic("TRACE", "/")
        probe.agency = None
        kwargs = dict.fromkeys(self.parameters, "0")
        try:
            response = self.callback(probe, **kwargs)
        except Http404:
            return None
        if isinstance(response, HttpResponseNotAllowed):
            return frozenset(m.strip() for m in response["Allow"].split(","))
        return None

    @property
    def is_post_only(self) -> bool:
        return self.allowed_methods == frozenset({"POST"})

    def path_with(self, values: dict[str, object]) -> str:
        """The URL path, each parameter turned to text by its own converter."""

        def fill(match: re.Match) -> str:
            name = match["name"]
            converter = self.converters.get(name)
            value = values[name]
            return converter.to_url(value) if converter is not None else str(value)

        return "/" + _PARAMETER.sub(fill, self.route)


def walk(patterns, prefix: str = "", namespace: str = "", converters=None) -> Iterator[Route]:
    converters = converters or {}
    for entry in patterns:
        route = prefix + str(entry.pattern)
        merged = {**converters, **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from walk(entry.url_patterns, route, inner, merged)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name=name, route=route, callback=entry.callback, converters=merged)


ALL_ROUTES = list(walk(get_resolver().url_patterns))
# Every route that declares a permission, plus every staff route (one without a declared
# permission then fails its matrix cases as well as the dedicated test in
# test_views_permissions).
MATRIX_ROUTES = [r for r in ALL_ROUTES if r.permission is not None or r.is_staff]
STAFF_ROUTES = [r for r in ALL_ROUTES if r.is_staff]
# Actions (acknowledge a request, remove a holiday...): POST-only views with a permission.
POST_ONLY_ROUTES = [r for r in MATRIX_ROUTES if r.is_post_only]
REQUEST_ACTION_PREFIX = "staff/requests/<number:number>/"
REQUEST_ACTION_ROUTES = [r for r in POST_ONLY_ROUTES if r.route.startswith(REQUEST_ACTION_PREFIX)]


# --- Path parameters: real objects of the signed-in user's own agency ------------------------


def _membership_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        return Membership.objects.get(agency=tenant.agency, user=tenant.staff).pk


def _department_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        return Department.objects.get(agency=tenant.agency, name="Clerk").pk


MATRIX_REQUEST_TITLE = "Permission matrix request"


def _request_number(tenant, user=None) -> str:
    """A published request (every staff role sees it) routed to the Clerk department, whose
    member the department admin is: department admins act only on their departments'
    requests, so this is the request each role may act on as far as its role allows."""
    with agency_context(tenant.agency):
        found = RecordsRequest.objects.filter(
            agency=tenant.agency, title=MATRIX_REQUEST_TITLE
        ).first()
        if found is not None:
            return found.number
        clerk = Department.objects.get(agency=tenant.agency, name="Clerk")
        DepartmentMember.objects.get_or_create(
            agency=tenant.agency, department=clerk, user=tenant.department_admin
        )
        records_request = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title=MATRIX_REQUEST_TITLE,
            description="Council minutes, January.",
            contact=submission.Contact(name="Matrix Requester"),
            department=clerk,
            channel="web",
        )
        assert records_request.visibility == Visibility.PUBLISHED
        return records_request.number


def _holiday_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        holiday, _ = Holiday.objects.get_or_create(
            agency=tenant.agency, date=datetime.date(2030, 7, 4), defaults={"name": "Matrix day"}
        )
        return holiday.pk


def _reason_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        reason, _ = ClosureReason.objects.get_or_create(agency=tenant.agency, name="Matrix outcome")
        return reason.pk


def _template_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        template, _ = ResponseTemplate.objects.get_or_create(
            agency=tenant.agency,
            kind="message",
            name="Matrix template",
            defaults={"body": "Hello about {number}."},
        )
        return template.pk


def _type_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        request_type, _ = RequestType.objects.get_or_create(
            agency=tenant.agency,
            name="Matrix type",
            defaults={"response_days": 30, "response_method": "calendar"},
        )
        return request_type.pk


def _field_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        field, _ = CustomField.objects.get_or_create(
            agency=tenant.agency, label="Matrix question", defaults={"kind": "text"}
        )
        return field.pk


def _matrix_request(tenant) -> RecordsRequest:
    _request_number(tenant)  # creates it on first use
    with agency_context(tenant.agency):
        return RecordsRequest.objects.get(agency=tenant.agency, title=MATRIX_REQUEST_TITLE)


def _task_id(tenant, user=None) -> int:
    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        task, _ = Task.objects.get_or_create(
            agency=tenant.agency, request=records_request, title="Matrix task"
        )
        return task.pk


def _entry_id(tenant, user=None) -> int:
    """A time entry of the signed-in user's own (correcting others' needs more)."""
    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        entry, _ = TimeEntry.objects.get_or_create(
            agency=tenant.agency,
            request=records_request,
            user=user if user is not None else tenant.staff,
            defaults={"day": datetime.date(2026, 1, 5), "minutes": 30},
        )
        return entry.pk


def _provider(tenant) -> IdentityProvider:
    with agency_context(tenant.agency):
        provider, _ = IdentityProvider.objects.get_or_create(
            agency=tenant.agency,
            name="Matrix LDAP",
            defaults={
                "kind": ProviderKind.LDAP,
                "settings": {
                    "server_uri": "ldap://127.0.0.1:9",
                    "bind_dn": "cn=bind",
                    "user_search_base": "dc=example,dc=org",
                    "user_filter": "(uid=%(user)s)",
                },
            },
        )
        return provider


def _provider_id(tenant, user=None) -> int:
    return _provider(tenant).pk


def _invitation_id(tenant, user=None) -> int:
    with agency_context(tenant.agency):
        invitation, _ = Invitation.objects.get_or_create(
            agency=tenant.agency,
            email="matrix-invitee@example.org",
            defaults={
                "role": Role.STAFF,
                "token_digest": "0" * 64,
                "expires_at": datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
            },
        )
        return invitation.pk


def _identity_id(tenant, user=None) -> int:
    provider = _provider(tenant)
    with agency_context(tenant.agency):
        identity, _ = ExternalIdentity.objects.get_or_create(
            agency=tenant.agency, provider=provider, subject="matrix", user=tenant.staff
        )
        return identity.pk


def _kind(tenant, user=None) -> str:
    return ProviderKind.OIDC


MATRIX_DOCUMENT = "matrix.pdf"


def _document(tenant):
    from documents.models import Document
    from tests.documents.helpers import pdf_with_text, stored_document

    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        found = Document.objects.filter(agency=tenant.agency, filename=MATRIX_DOCUMENT).first()
    if found is not None:
        return found
    return stored_document(records_request, pdf_with_text("Matrix page"), filename=MATRIX_DOCUMENT)


def _document_id(tenant, user=None):
    return _document(tenant).public_id


def _reason(tenant):
    from documents.models import RedactionReason

    with agency_context(tenant.agency):
        reason, _ = RedactionReason.objects.get_or_create(agency=tenant.agency, label="Matrix")
        return reason


def _reason_id_documents(tenant, user=None) -> int:
    return _reason(tenant).pk


def _finding_id(tenant, user=None) -> int:
    from documents.models import Finding

    document = _document(tenant)
    with agency_context(tenant.agency):
        finding, _ = Finding.objects.get_or_create(
            agency=tenant.agency,
            document=document,
            kind="email",
            location="page 1",
            defaults={"excerpt": "m***@example.org", "value_digest": "0" * 64, "page": 1},
        )
        return finding.pk


def _redaction_id(tenant, user=None) -> int:
    from documents.models import Redaction

    document = _document(tenant)
    reason = _reason(tenant)
    with agency_context(tenant.agency):
        row, _ = Redaction.objects.get_or_create(
            agency=tenant.agency,
            document=document,
            page=1,
            defaults={"x0": 10, "y0": 10, "x1": 100, "y1": 40, "reason": reason},
        )
        return row.pk


def _grant_id(tenant, user=None) -> int:
    """A support-access request waiting for an answer (approve, deny and revoke act on it)."""
    from accounts.models import SupportGrant, SupportRole, User

    operator, _ = User.objects.get_or_create(
        email="matrix-operator@platform.test", defaults={"is_staff": True}
    )
    with agency_context(tenant.agency):
        grant, _ = SupportGrant.objects.get_or_create(
            agency=tenant.agency,
            operator=operator,
            defaults={
                "role": SupportRole.READ_ONLY,
                "reason": "Matrix check",
                "duration_minutes": 60,
            },
        )
        return grant.pk


def _matrix_invoice(tenant):
    """A draft invoice with one line on the matrix request (every invoice page acts on it)."""
    from billing.models import Invoice, InvoiceLine, LineKind
    from billing.services import invoices

    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        found = Invoice.objects.filter(agency=tenant.agency, request=records_request).first()
        if found is None:
            found = invoices.invoice_create(records_request=records_request, actor=tenant.admin)
            invoices.invoice_line_add(
                invoice=found,
                actor=tenant.admin,
                kind=LineKind.CUSTOM,
                description="Matrix copies",
                unit_cents=1500,
            )
        line = InvoiceLine.objects.filter(agency=tenant.agency, invoice=found).first()
        return found, line


def _invoice_id(tenant, user=None) -> int:
    return _matrix_invoice(tenant)[0].pk


def _line_id(tenant, user=None) -> int:
    return _matrix_invoice(tenant)[1].pk


def _item_id(tenant, user=None) -> int:
    from billing.models import FeeItem

    with agency_context(tenant.agency):
        item, _ = FeeItem.objects.get_or_create(
            agency=tenant.agency,
            name="Matrix USB drive",
            defaults={"kind": "media", "unit_cents": 500},
        )
        return item.pk


def _rate_id(tenant, user=None) -> int:
    from billing.models import StaffRate

    with agency_context(tenant.agency):
        rate, _ = StaffRate.objects.get_or_create(
            agency=tenant.agency, role=Role.STAFF, user=None, defaults={"hourly_cents": 4000}
        )
        return rate.pk


def _one(tenant, user=None) -> int:
    return 1


def _upload_id(tenant, user=None):
    """An upload in progress of the user making the request (uploads are their uploader's)."""
    from documents.upload import services as document_services

    records_request = _matrix_request(tenant)
    with agency_context(tenant.agency):
        upload = document_services.upload_start(
            records_request=records_request,
            filename="matrix.pdf",
            size=10,
            actor=user if user is not None and user.is_authenticated else tenant.staff,
        )
        return upload.public_id


def _event_id(tenant, user=None) -> int:
    """An event of the agency's audit log."""
    import audit

    with agency_context(tenant.agency):
        return audit.record("auth.login", agency=tenant.agency).pk


def _scan_run_id(tenant, user=None) -> int:
    """A self-scan run (platform data: no agency)."""
    from ops.models import ScanRun

    with agency_context(None, platform=True):
        return ScanRun.objects.create(trigger=ScanRun.Trigger.COMMAND).pk


def _webhook_endpoint(tenant):
    from webhooks.models import WebhookEndpoint
    from webhooks.services import endpoint_create

    with agency_context(tenant.agency):
        found = WebhookEndpoint.objects.filter(agency=tenant.agency).first()
        if found is None:
            found, _secret = endpoint_create(
                agency=tenant.agency,
                actor=tenant.admin,
                url="http://127.0.0.1:9/matrix",
                chosen_events=["request.created"],
            )
        return found


def _endpoint_id(tenant, user=None) -> int:
    return _webhook_endpoint(tenant).pk


def _delivery_id(tenant, user=None) -> int:
    """A delivery of the agency's webhook address, already tried once (failed)."""
    from webhooks.models import WebhookDelivery

    endpoint = _webhook_endpoint(tenant)
    with agency_context(tenant.agency):
        delivery, _ = WebhookDelivery.objects.get_or_create(
            agency=tenant.agency,
            endpoint=endpoint,
            object_type="request",
            object_id=1,
            defaults={
                "event": "request.created",
                "payload": {"type": "request.created"},
                "attempts": 1,
                "last_status_code": 500,
            },
        )
        return delivery.pk


def _request_action(tenant, user=None) -> str:
    """An action of the API's request actions (api/requests/actions.py)."""
    return "acknowledge"


def _token_id(tenant, user=None) -> int:
    """A personal API token of the user (or the agency's staff member)."""
    from api.tokens.services import token_create

    with agency_context(tenant.agency):
        token, _text = token_create(
            user=user if user is not None and user.is_authenticated else tenant.staff,
            agency=tenant.agency,
            name="route matrix",
            scopes=["requests:read"],
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )
    return token.pk


PARAMETER_VALUES: dict[str, Callable] = {
    "action": _request_action,
    "token_id": _token_id,
    "membership_id": _membership_id,
    "department_id": _department_id,
    "number": _request_number,
    "holiday_id": _holiday_id,
    "reason_id": _reason_id,
    "template_id": _template_id,
    "type_id": _type_id,
    "field_id": _field_id,
    "task_id": _task_id,
    "entry_id": _entry_id,
    "provider_id": _provider_id,
    "invitation_id": _invitation_id,
    "identity_id": _identity_id,
    "kind": _kind,
    "document_id": _document_id,
    "finding_id": _finding_id,
    "redaction_id": _redaction_id,
    "version": _one,
    "page": _one,
    "redaction_reason_id": _reason_id_documents,
    "upload_id": _upload_id,
    "index": _one,
    "event_id": _event_id,
    "grant_id": _grant_id,
    "incident_id": _one,  # a platform status incident (answers 404 on an agency host)
    "invoice_id": _invoice_id,
    "line_id": _line_id,
    "item_id": _item_id,
    "rate_id": _rate_id,
    "run_id": _scan_run_id,
    "request_id": _one,  # an expunge request (platform data: answers 404 on an agency host)
    "endpoint_id": _endpoint_id,
    "delivery_id": _delivery_id,
}


def url_for(route: Route, tenant, user=None) -> str:
    """The route's URL with objects of ``tenant`` (``user``'s own where that matters)."""
    missing = [p for p in route.parameters if p not in PARAMETER_VALUES]
    assert not missing, (
        f"{route.label}: no test value for path parameter(s) {missing}; "
        "add them to PARAMETER_VALUES"
    )
    url = route.path_with({p: PARAMETER_VALUES[p](tenant, user) for p in route.parameters})
    assert resolve(url).func is route.callback, f"{url} does not resolve to {route.label}"
    return url


# --- Visiting a route ------------------------------------------------------------------------


def visit_route(client, route: Route, url: str):
    """POST-only views get an empty POST; every other page a GET."""
    return client.post(url, {}) if route.is_post_only else client.get(url)
