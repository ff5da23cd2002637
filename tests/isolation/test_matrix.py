"""The tenant-isolation matrix: every URL pattern outside the staff area, visited by every
kind of person who must not reach another agency's (or another person's) data.

Routes come from Django's resolver, so a new view is covered the day it is added: one this
matrix has no expectation for fails ``test_every_route_has_an_expectation`` with its name.
The staff area is covered route by route in tests/accounts/test_views_permissions.py (roles,
outsiders on both hosts, the platform host); this module covers everything else.

For each (route, persona) the answer must be one the route's family allows (the families
follow docs/permissions.md), never a server error, and no 2xx body may contain a marker of
data the persona is not entitled to (the other agency's name, a restricted request's
description, an invoice line of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.accounts.route_matrix import ALL_ROUTES, Route
from tests.isolation.personas import (
    World,
    is_post_only,
    isolation_url,
    make_world,
    markers,
    platform_host,
    private_markers,
)


@dataclass(frozen=True)
class Persona:
    name: str
    describe: str

    def user(self, world: World):
        return {
            "anonymous": None,
            "requester": world.a.requester,
            "staff": world.a.staff,
            "outsider_on_a": world.b.admin,
            "outsider_on_b": world.b.admin,
            "admin_on_platform": world.a.admin,
        }[self.name]

    def host(self, world: World) -> str:
        if self.name == "outsider_on_b":
            return world.b.host
        if self.name == "admin_on_platform":
            return platform_host()
        return world.a.host

    def forbidden(self, world: World) -> list[str]:
        if self.name == "outsider_on_b":
            return markers(world.a)
        if self.name == "admin_on_platform":  # the platform's home lists every agency
            return private_markers(world.b)
        if self.name == "outsider_on_a":  # their own account pages name their own agency
            return private_markers(world.a)
        return [*private_markers(world.a), *markers(world.b)]


PERSONAS = [
    Persona("anonymous", "not signed in, on A's host"),
    Persona("requester", "a resident with their own request in A, on A's host"),
    Persona("staff", "A's member with the smallest role (staff), on A's host"),
    Persona("outsider_on_a", "B's admin on A's host"),
    Persona("outsider_on_b", "B's admin on B's host, with A's ids"),
    Persona("admin_on_platform", "A's admin on the platform host"),
]

ROUTES = [r for r in ALL_ROUTES if not r.is_staff]

# --- What each route answers -----------------------------------------------------------------
#
# An expectation is a status code, LOGIN (302 to the sign-in page, with ``next``) or a
# Redirect to a path prefix. Each family gives what an anonymous visitor, a signed-in person
# on an agency host (requester, staff, outsiders) and A's admin on the platform host get.


@dataclass(frozen=True)
class Redirect:
    prefix: str


LOGIN = "login"


@dataclass(frozen=True)
class Family:
    anonymous: object
    signed_in: object
    platform: object
    why: str
    owner: dict | None = None  # persona → answer, where the persona owns the object


def _family(anonymous, signed_in, platform, why, **owner) -> Family:
    return Family(anonymous, signed_in, platform, why, owner or None)


PUBLIC_PAGE = _family(200, 200, 404, "public page of an agency; none on the platform host")
PUBLIC_ANYWHERE = _family(200, 200, 200, "public on every host, reads no tenant data")
SIGNED_OUT_PAGE = _family(200, Redirect("/"), Redirect("/"), "sign-in and sign-up forms")
OWN_ACCOUNT = _family(LOGIN, 200, 200, "the signed-in person's own account, on any host")
OWN_ACCOUNT_REAUTH = _family(
    LOGIN, Redirect("/accounts/confirm/"), Redirect("/accounts/confirm/"), "asks for the password"
)
ONE_PERSONS_OBJECT = _family(
    LOGIN, 404, 404, "someone else's object: 404, as a missing one", staff=200
)
ONE_PERSONS_FILE = _family(LOGIN, 404, 404, "someone else's (unready) export: 404")
REQUESTER_OBJECT = _family(404, 404, 404, "a restricted request of someone else: 404")
UNKNOWN_LINK = _family(404, 404, 404, "a link token or provider nobody issued: 404")
OPERATOR_ONLY = _family(LOGIN, 404, 404, "platform operators only: strangers get 404")
PLATFORM_ONLY = _family(404, 404, 200, "the platform's own page, not on agency hosts")
SIGNED_LINK = _family(403, 403, 404, "a download link issued to someone else: refused")
POST_ONLY_BY_GET = _family(405, 405, 405, "POST only: GET refused")
# The API. "outsider_on_b" is B's admin on B's own host: lists there are B's own (200), and a
# request number of A's names B's request of that number (numbers are per agency), so 200 is
# B's own data; the markers check proves none of A's shows.
API_MEMBERS = _family(
    401, 404, 404, "the API: an agency's members only", staff=200, outsider_on_b=200
)
API_ADMINS = _family(401, 404, 404, "the API: admins only", staff=403, outsider_on_b=200)
API_ADMINS_OBJECT = _family(401, 404, 404, "the API: admins only; A's id on B: 404", staff=403)
API_MEMBERS_OBJECT = _family(401, 404, 404, "the API: another agency's id is 404")
# A signed-in person who is no member acts as a requester (their own requests only).
API_OWN_REQUESTS = _family(401, 200, 404, "the API: staff's queue, or the person's own requests")
# A's matrix request is restricted (its point of contact and admins only): 404 to the rest.
API_RESTRICTED_REQUEST = _family(
    401, 404, 404, "the API: a restricted request of A's", outsider_on_b=200
)
API_POST_ONLY = _family(401, 405, 404, "the API: POST only; GET refused after sign-in")
API_POST_ONLY_ADMINS = _family(
    401, 404, 404, "the API: admins only, POST only", staff=403, outsider_on_b=405
)
OPERATOR_PLATFORM_PAGE = _family(404, 404, 404, "operators on the platform host only: 404 here")

FAMILIES: dict[str, Family] = {
    "home": PUBLIC_ANYWHERE,
    "healthz": PUBLIC_ANYWHERE,
    "api:schema": PUBLIC_ANYWHERE,
    "accounts:password_reset": PUBLIC_ANYWHERE,
    "accounts:password_reset_done": PUBLIC_ANYWHERE,
    "accounts:password_reset_complete": PUBLIC_ANYWHERE,
    "accounts:signup_confirm": PUBLIC_ANYWHERE,  # an unknown token: "this link has expired"
    "accounts:password_reset_confirm": PUBLIC_ANYWHERE,  # an unknown link
    "accounts:logout": POST_ONLY_BY_GET,
    "set_language": _family(Redirect("/"), Redirect("/"), Redirect("/"), "back to the page"),
    "accounts:login": SIGNED_OUT_PAGE,
    "accounts:signup": SIGNED_OUT_PAGE,
    "accounts:mfa_verify": _family(
        Redirect("/accounts/login/"),
        Redirect("/accounts/login/"),
        Redirect("/accounts/login/"),
        "no sign-in waiting for its second factor",
    ),
    "accounts:mfa_step_up": _family(LOGIN, Redirect("/"), Redirect("/"), "nothing to confirm"),
    "accounts:mfa_setup": OWN_ACCOUNT_REAUTH,
    "accounts:mfa_recovery_codes": OWN_ACCOUNT_REAUTH,
    "accounts:mfa_disable": OWN_ACCOUNT_REAUTH,
    "accounts:password_change": OWN_ACCOUNT_REAUTH,
    "accounts:email_change": OWN_ACCOUNT_REAUTH,
    "accounts:security": OWN_ACCOUNT,
    "accounts:profile": OWN_ACCOUNT,
    "accounts:reauthenticate": OWN_ACCOUNT,
    "accounts:email_change_confirm": OWN_ACCOUNT,  # an unknown token: "this link has expired"
    "accounts:session_end": _family(LOGIN, 404, 404, "another person's session: 404"),
    "accounts:sessions_end_others": OWN_ACCOUNT_REAUTH,
    "accounts:link": _family(LOGIN, 404, 404, "a provider that is not an agency's SSO: 404"),
    "residents:data": OWN_ACCOUNT,
    "residents:account_delete": OWN_ACCOUNT,
    "residents:export_status": ONE_PERSONS_OBJECT,
    "residents:export_download": ONE_PERSONS_FILE,
    "api:docs": OWN_ACCOUNT,
    "my_requests": _family(LOGIN, 200, 404, "the person's own requests in this agency"),
    "accounts:invitation_accept": _family(400, 400, 404, "an unknown invitation: refused"),
    "accounts:invitation_sso": UNKNOWN_LINK,
    "accounts:oidc_login": UNKNOWN_LINK,
    "accounts:oidc_callback": UNKNOWN_LINK,
    "saml_login": UNKNOWN_LINK,
    "saml_acs": UNKNOWN_LINK,
    "saml_finish_acs": UNKNOWN_LINK,
    "saml_metadata": UNKNOWN_LINK,
    "saml_sls": UNKNOWN_LINK,
    "accounts:support_request": OPERATOR_ONLY,
    "accounts:support_emergency": OPERATOR_ONLY,
    "accounts:support_end": OPERATOR_ONLY,
    "privacy": PUBLIC_PAGE,
    "accessibility": PUBLIC_PAGE,
    "request_new": PUBLIC_PAGE,
    "request_similar": PUBLIC_PAGE,
    "archive": PUBLIC_PAGE,
    "billing:pay_cancel": PUBLIC_PAGE,  # "nothing was charged": reads no invoice
    "request_detail": REQUESTER_OBJECT,
    "request_reply": REQUESTER_OBJECT,
    "resident_document_upload": REQUESTER_OBJECT,
    "resident_document_upload_start": REQUESTER_OBJECT,
    "resident_document_upload_status": REQUESTER_OBJECT,
    "resident_document_upload_chunk": REQUESTER_OBJECT,
    "resident_document_upload_complete": REQUESTER_OBJECT,
    "resident_document_upload_cancel": REQUESTER_OBJECT,
    "resident_document_link": REQUESTER_OBJECT,
    "billing:invoice_page": REQUESTER_OBJECT,
    "billing:invoice_pdf": REQUESTER_OBJECT,
    "billing:invoice_pay": REQUESTER_OBJECT,
    "billing:pay_return": REQUESTER_OBJECT,
    "billing:stripe_webhook": _family(404, 404, 404, "no Stripe account connected: 404"),
    "document_download": SIGNED_LINK,
    "ops:scan_runs": OPERATOR_ONLY,
    "ops:scan_run_now": OPERATOR_ONLY,
    "ops:scan_run": OPERATOR_ONLY,
    "ops:expunges": OPERATOR_ONLY,
    "ops:expunge_new": OPERATOR_ONLY,
    "ops:expunge": OPERATOR_ONLY,
    "ops:expunge_approve": OPERATOR_ONLY,
    "ops:expunge_cancel": OPERATOR_ONLY,
    "ops:expunge_rerun": OPERATOR_ONLY,
    "status_incidents": OPERATOR_ONLY,
    "status_incident_resolve": OPERATOR_ONLY,
    "healthz_deep": _family(404, 404, 404, "operators or the monitoring token only"),
    "status": PLATFORM_ONLY,
    "ops_agencies:list": OPERATOR_PLATFORM_PAGE,
    "ops_agencies:new": OPERATOR_PLATFORM_PAGE,
    "ops_agencies:detail": OPERATOR_PLATFORM_PAGE,
    "mailin:mailgun_inbound": _family(404, 404, 404, "no Mailgun signing key set: 404"),
    # The REST API (docs/api.md). Open data is the archive's: public on the agency's host.
    "api:open_requests": PUBLIC_PAGE,
    "api:open_documents": PUBLIC_PAGE,
    "api:open_requests_csv": PUBLIC_PAGE,
    "api:open_requests_json": PUBLIC_PAGE,
    "api:open_documents_csv": PUBLIC_PAGE,
    "api:open_documents_json": PUBLIC_PAGE,
    "api:open_request": REQUESTER_OBJECT,  # A's matrix request is restricted: never open data
    # The agency's data: members only (a non-member, an outsider on either host: 404), each
    # with the web page's permission (the smallest role: 403 where the web refuses it).
    "api:departments": API_MEMBERS,
    "api:department": _family(
        401, 404, 404, "the API: a department of A's, staff may read it", staff=200
    ),
    "api:invoices": API_MEMBERS,
    "api:invoice": API_MEMBERS_OBJECT,
    "api:audit_events": API_ADMINS,
    "api:audit_event": API_ADMINS_OBJECT,
    "api:people": API_ADMINS,
    "api:person": API_ADMINS_OBJECT,
    "api:person_deactivate": API_POST_ONLY_ADMINS,
    "api:invitations": API_POST_ONLY_ADMINS,
    "api:requests": API_OWN_REQUESTS,
    "api:request": API_RESTRICTED_REQUEST,
    "api:request_messages": API_RESTRICTED_REQUEST,
    "api:request_timeline": API_RESTRICTED_REQUEST,
    "api:request_action": API_POST_ONLY,
    "api:request_documents": API_RESTRICTED_REQUEST,
    "api:request_document": API_MEMBERS_OBJECT,
    "api:request_document_link": API_POST_ONLY,
    "api:document_download": _family(
        401, 403, 404, "a download link issued to someone else: refused"
    ),
    "api:not_found": _family(404, 404, 404, "every other address under /api/v1/: a JSON 404"),
    "api_tokens:list": _family(LOGIN, 200, 404, "the person's own tokens, on an agency's host"),
    "api_tokens:revoke": _family(
        LOGIN, Redirect("/accounts/api-tokens/"), 404, "each persona revokes its own token"
    ),
}


def expected(route: Route, persona: Persona):
    family = FAMILIES[route.label]
    if family.owner and persona.name in family.owner:
        return family.owner[persona.name]
    if persona.name == "anonymous":
        return family.anonymous
    if persona.name == "admin_on_platform":
        return family.platform
    return family.signed_in


def answered_as(response, expectation, url: str) -> bool:
    if expectation == LOGIN:
        target = urlsplit(response.get("Location", ""))
        return response.status_code == 302 and target.path == reverse("accounts:login")
    if isinstance(expectation, Redirect):
        return response.status_code == 302 and response["Location"].startswith(expectation.prefix)
    return response.status_code == expectation


def leaked(response, forbidden: list[str]) -> list[str]:
    if not 200 <= response.status_code < 300:
        return []
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    text = body.decode(errors="replace")
    return [marker for marker in forbidden if marker in text]


# --- The tests -------------------------------------------------------------------------------


def test_every_route_has_an_expectation():
    """A route added anywhere (an API, an operator page, a webhook) needs its family here."""
    missing = sorted(r.label for r in ROUTES if r.label not in FAMILIES)
    assert not missing, (
        f"the isolation matrix has no expectation for {missing}: add each to FAMILIES in "
        "tests/isolation/test_matrix.py (and say who may open it in docs/permissions.md)"
    )
    stale = sorted(set(FAMILIES) - {r.label for r in ROUTES})
    assert not stale, f"FAMILIES names routes that no longer exist: {stale}"


def test_every_url_pattern_is_in_one_matrix():
    """Staff routes are the permission matrix's (test_views_permissions); all others here."""
    assert {r.label for r in ALL_ROUTES} == {r.label for r in ROUTES} | {
        r.label for r in ALL_ROUTES if r.is_staff
    }


# outsider_on_b before outsider_on_a: the same person's own security page lists where their
# sessions are, which would name agency A once they had signed in on A's host.
_ORDER = ["anonymous", "requester", "staff", "outsider_on_b", "outsider_on_a", "admin_on_platform"]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.label)
def test_isolation_matrix(route, tenant, other_tenant, client_for):
    assert route.label in FAMILIES, (
        f"{route.label}: no expectation in the isolation matrix (see "
        "test_every_route_has_an_expectation)"
    )
    world = make_world(tenant, other_tenant)
    post = is_post_only(route)
    failures = []
    for persona in sorted(PERSONAS, key=lambda p: _ORDER.index(p.name)):
        user = persona.user(world)
        url = isolation_url(route, tenant, user)
        client = client_for(user, persona.host(world))
        client.raise_request_exception = False
        response = client.post(url, {}) if post else client.get(url)
        want = expected(route, persona)
        where = f"{'POST' if post else 'GET'} {url} as {persona.name} ({persona.describe})"
        if response.status_code >= 500:
            failures.append(f"{where}: server error {response.status_code}")
            continue
        if not answered_as(response, want, url):
            failures.append(
                f"{where}: answered {response.status_code} "
                f"{response.get('Location', '')!r}, expected {want} "
                f"({FAMILIES[route.label].why})"
            )
        found = leaked(response, persona.forbidden(world))
        if found:
            failures.append(f"{where}: the page shows data it must not: {found}")
    assert not failures, "\n".join(failures)


def test_requester_reaches_their_own_request_and_outsiders_do_not(tenant, other_tenant, client_for):
    """The matrix's 404s mean something: the same pages answer their owner."""
    world = make_world(tenant, other_tenant)
    url = reverse("request_detail", args=[world.own_request_number])
    own = client_for(tenant.requester, tenant.host).get(url)
    assert own.status_code == 200
    assert "Bus timetables, please." in own.content.decode()
    for client in (
        client_for(None, tenant.host),
        client_for(other_tenant.admin, tenant.host),
        client_for(other_tenant.admin, other_tenant.host),
    ):
        response = client.get(url)
        assert "Bus timetables, please." not in response.content.decode()
        assert response.status_code in (302, 404)
