"""The isolation matrix's world: two agencies with real objects, their distinctive markers,
and the people who must not see them.

Agency A (``tenant``) holds the objects every path parameter names; agency B
(``other_tenant``) holds the same kinds of objects, so an id of A's may well be a real id on
B's host too. What each agency must never show an outsider is its *markers*: its name, the
description of its (restricted) matrix request and the description of its invoice line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from accounts.tenancy import agency_context
from requests_portal.models import RecordsRequest, Visibility
from requests_portal.services import submission
from tests.accounts.route_matrix import (
    MATRIX_REQUEST_TITLE,
    PARAMETER_VALUES,
    Route,
)


def secret_description(tenant) -> str:
    return f"{tenant.agency.slug.upper()}-SECRET-DESCRIPTION-Q7"


def secret_line(tenant) -> str:
    return f"{tenant.agency.slug.upper()}-SECRET-INVOICE-LINE-Q7"


def markers(tenant) -> list[str]:
    """Text only agency ``tenant``'s own pages (and its entitled people) may show."""
    return [tenant.agency.name, secret_description(tenant), secret_line(tenant)]


def private_markers(tenant) -> list[str]:
    """Text nobody but the agency's staff may see, even on the agency's own host."""
    return [secret_description(tenant), secret_line(tenant)]


# --- Values for the parameters only non-staff routes have --------------------------------------

_TOKEN = "T" * 43  # a well-formed link token nobody was sent


def _token(tenant, user=None) -> str:
    return _TOKEN


def _reset_uid(tenant, user=None) -> str:
    return "MQ"


def _reset_token(tenant, user=None) -> str:
    return "c0ffee-" + "0" * 32


def _provider_public_id(tenant, user=None) -> str:
    from tests.accounts.route_matrix import _provider

    return str(_provider(tenant).public_id)


def _export_id(tenant, user=None) -> uuid.UUID:
    """A data export of agency A's staff member (exports belong to people, not agencies)."""
    from residents.models import DataExport

    export, _ = DataExport.objects.get_or_create(user=tenant.staff)
    return export.public_id


def _signed_link(tenant, user=None) -> str:
    """A real download link to the agency's matrix document, issued to its staff member."""
    from documents.links import link_issue
    from documents.models import DocumentVersion
    from tests.accounts.route_matrix import _document

    document = _document(tenant)
    with agency_context(tenant.agency):
        version = DocumentVersion.objects.filter(document=document).first()
        return link_issue(version=version, audience="staff", user=tenant.staff).token


def _session_id(tenant, user=None) -> int:
    return 1


ISOLATION_VALUES = {
    **PARAMETER_VALUES,
    "token": _token,
    "uidb64": _reset_uid,
    "organization_slug": _provider_public_id,
    "export_id": _export_id,
    "session_id": _session_id,
    "agency_id": lambda tenant, user=None: tenant.agency.pk,
}
_SPECIAL_CONVERTERS = {
    "ResetTokenConverter": _reset_token,
    "SignedLinkConverter": _signed_link,
    "UuidTextConverter": _provider_public_id,
}


def _value(route: Route, name: str, tenant, user):
    special = _SPECIAL_CONVERTERS.get(type(route.converters.get(name)).__name__)
    if special is not None:
        return special(tenant, user)
    assert name in ISOLATION_VALUES, (
        f"{route.label}: no isolation test value for path parameter {name!r}; "
        "add it to ISOLATION_VALUES in tests/isolation/personas.py"
    )
    return ISOLATION_VALUES[name](tenant, user)


def isolation_url(route: Route, tenant, user=None) -> str:
    """The route's URL with real objects of ``tenant`` for every path parameter."""
    return route.path_with({p: _value(route, p, tenant, user) for p in route.parameters})


# --- The world -------------------------------------------------------------------------------


@dataclass
class World:
    a: object  # agency A's Tenant: the one whose ids are visited
    b: object  # agency B's Tenant: the outsider's agency
    own_request_number: str  # the requester's own request in A


def make_world(tenant, other_tenant) -> World:
    """Both agencies' matrix objects, A's matrix request restricted (only its point of contact
    and admins may read it), the markers written into both, and a request of A's requester."""
    from billing.models import InvoiceLine

    for side in (tenant, other_tenant):
        for name in ("number", "document_id", "invoice_id", "task_id", "finding_id"):
            PARAMETER_VALUES[name](side)
        with agency_context(side.agency):
            RecordsRequest.objects.filter(agency=side.agency, title=MATRIX_REQUEST_TITLE).update(
                description=secret_description(side), visibility=Visibility.RESTRICTED
            )
            InvoiceLine.objects.filter(agency=side.agency).update(description=secret_line(side))
    with agency_context(tenant.agency):
        own = submission.request_submit(
            agency=tenant.agency,
            actor=tenant.requester,
            title="Requester's own request",
            description="Bus timetables, please.",
            contact=submission.Contact(name="Rita Requester", email=tenant.requester.email),
            channel="web",
        )
        # Not public, so that only its requester may read it.
        RecordsRequest.objects.filter(pk=own.pk).update(visibility=Visibility.ALL_STAFF)
    return World(a=tenant, b=other_tenant, own_request_number=own.number)


def platform_host() -> str:
    return settings.PORTAL_BASE_DOMAIN


def is_post_only(route: Route) -> bool:
    """Whether the view admits POST only: offered a method nobody allows, a method guard
    answers 405 naming the methods it takes (route_matrix's probe is for staff views; views
    outside the staff area may read ``request.user`` first, so the probe carries one)."""
    from django.http import HttpResponseNotAllowed
    from django.test import RequestFactory

    from accounts.models import User

    probe = RequestFactory().generic("TRACE", "/")
    probe.agency = None
    probe.user = User()  # signed in as far as login_required can tell; never saved
    probe.session = {}
    try:
        with transaction.atomic():  # a view that wrote before failing leaves nothing behind
            response = route.callback(probe, **dict.fromkeys(route.parameters, "0"))
    except Exception:  # noqa: BLE001 - past the method guard: the view takes other methods
        return False
    if isinstance(response, HttpResponseNotAllowed):
        return {m.strip() for m in response["Allow"].split(",")} == {"POST"}
    return False
