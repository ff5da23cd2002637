"""Coverage you can prove: every request a signed-in member makes to an agency's host leaves
at least one audit event (issue 11).

``accounts.middleware.AuditAccessMiddleware`` records ``page.view`` for every authenticated
request on an agency's host that did not fail (status below 500), whatever view answered.
This test does not trust that sentence: it walks Django's URL resolver (every pattern,
namespaced includes too, so a route added tomorrow is walked tomorrow), fills each path
parameter with a real object of the agency, and asks every route with GET and with an
empty POST as the agency's admin. A request whose id (``X-Request-ID``) is on no audit
event of the agency's chain or the platform's fails the test, as does a server error.

What the middleware leaves out, on purpose: requests of visitors who are not signed in
(their sign-in, download and submission events are recorded by the services), the
platform's own domain (no agency's data), and static files (served before any of this,
by WhiteNoise, in production). Exemptions of single routes go in ``EXEMPT`` with a reason;
there are none.
"""

from __future__ import annotations

import secrets
import uuid

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import resolve
from django.urls.converters import IntConverter, UUIDConverter
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.converters import (
    ResetTokenConverter,
    ResetUidConverter,
    TokenConverter,
    UuidTextConverter,
)
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import links
from documents.converters import SignedLinkConverter
from documents.models import DocumentVersion
from tests.accounts.route_matrix import ALL_ROUTES, PARAMETER_VALUES, Route
from tests.conftest import mark_fully_signed_in

pytestmark = pytest.mark.django_db

# route label -> why a signed-in member's request to it may record nothing.
EXEMPT: dict[str, str] = {}


def _values_by_converter(tenant, user) -> dict[type, object]:
    """A well-formed value for the parameters whose names say nothing about the agency's
    objects: link tokens, reset links, sign-in option ids."""
    document_id = PARAMETER_VALUES["document_id"](tenant, user)
    with agency_context(tenant.agency):
        version = DocumentVersion.objects.filter(
            agency=tenant.agency, document__public_id=document_id
        ).latest("number")
        link = links.link_issue(version=version, audience="staff", user=user)
    return {
        SignedLinkConverter: link.token,
        TokenConverter: secrets.token_urlsafe(32),
        UuidTextConverter: str(uuid.uuid4()),
        ResetUidConverter: urlsafe_base64_encode(force_bytes(user.pk)),
        ResetTokenConverter: default_token_generator.make_token(user),
    }


# A parameter nobody gave a real object for (route_matrix.PARAMETER_VALUES) still gets a
# well-formed value, so a new route is walked from the day it is added (its view answers
# 404, which is recorded like any other page).
_NOBODYS = {IntConverter: 2**31 - 1, UUIDConverter: uuid.UUID(int=1)}


def _url(route: Route, values: dict[str, object], by_converter: dict[type, object]) -> str:
    filled = {}
    for name in route.parameters:
        converter = type(route.converters.get(name))
        if converter in by_converter:
            filled[name] = by_converter[converter]
        elif name in values:
            filled[name] = values[name]
        else:
            assert converter in _NOBODYS, f"{route.label}: no value for <{name}>"
            filled[name] = _NOBODYS[converter]
    url = route.path_with(filled)
    assert resolve(url).func is route.callback, f"{url} does not resolve to {route.label}"
    return url


def _signed_in(client: Client, user) -> None:
    """Sign the walker in again when a route (sign out, end my sessions) ended its session."""
    if client.session.get("_auth_user_id") != str(user.pk):
        client.force_login(user)
        mark_fully_signed_in(client)


def test_every_route_records_an_audit_event_for_a_signed_in_member(tenant, client_for):
    admin = tenant.admin
    client = client_for(admin, tenant.host)
    client.raise_request_exception = False  # a server error is a finding, not a crash
    by_converter = _values_by_converter(tenant, admin)
    names = {name for route in ALL_ROUTES for name in route.parameters}
    values = {
        name: PARAMETER_VALUES[name](tenant, admin) for name in names if name in PARAMETER_VALUES
    }
    walked = [route for route in ALL_ROUTES if route.label not in EXEMPT]
    assert len(walked) > 100  # the resolver was really walked

    asked: dict[str, str] = {}  # request id -> "METHOD route status"
    failures = []
    for method in ("get", "post"):
        for route in walked:
            _signed_in(client, admin)
            url = _url(route, values, by_converter)
            response = getattr(client, method)(url)
            label = f"{method.upper()} {route.label} {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{label}: server error")
                continue
            asked[response["X-Request-ID"]] = label

    with agency_context(tenant.agency):
        recorded = set(
            AuditEvent.objects.filter(agency=tenant.agency, request_id__in=asked).values_list(
                "request_id", flat=True
            )
        )
    with agency_context(None, platform=True):
        recorded |= set(
            AuditEvent.objects.filter(agency=None, request_id__in=asked).values_list(
                "request_id", flat=True
            )
        )
    failures += [f"{label}: no audit event" for rid, label in asked.items() if rid not in recorded]
    assert not failures, f"{len(failures)} of {len(asked)} requests:\n" + "\n".join(failures)


def test_every_exemption_names_an_existing_route_and_a_reason():
    labels = {route.label for route in ALL_ROUTES}
    assert all(label in labels and reason.strip() for label, reason in EXEMPT.items())


def test_a_download_link_s_token_is_not_kept_in_the_page_view_event(tenant, client_for):
    """The event of a download keeps the page's name; the working link stays out of the log
    that agency admins read and export."""
    by_converter = _values_by_converter(tenant, tenant.admin)
    token = by_converter[SignedLinkConverter]
    client = client_for(tenant.admin, tenant.host)
    response = client.get(f"/documents/download/{token}/")
    assert response.status_code == 200
    with agency_context(tenant.agency):
        (view,) = AuditEvent.objects.filter(
            agency=tenant.agency,
            action="page.view",
            request_id=response["X-Request-ID"],
        )
    assert view.details["view"] == "document_download"
    assert view.details["path"] == "/documents/download/[hidden]/"
    assert token not in str(view.details)
