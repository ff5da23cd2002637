"""OpenID Connect sign-in end to end against a real provider (panva's oidc-provider on
Node.js, tests/idp/oidc_provider.py).

The test client plays the browser on the agency's host: it posts the sign-in button, the
harness logs in at the provider and hands back the redirect to the portal's callback, and the
client opens it. The portal's own server code talks to the provider over real HTTP for
discovery, the token and the signing keys. Google and Microsoft cannot be reached from here:
their configuration and their tenant checks are tested as far as they are local.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
    Agency,
    EmailChange,
    ExternalIdentity,
    IdentityProvider,
    Invitation,
    ProviderKind,
    RecoveryCode,
    Role,
    User,
)
from accounts.services import invitations
from accounts.signin import mfa
from accounts.sso import config, oidc
from accounts.sso.claims import SsoRefused
from accounts.tenancy import agency_context
from tests.accounts import sso_helpers as h
from tests.accounts.identity_helpers import add_authenticator
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from tests.idp._process import free_port
from tests.idp.fixtures import service_unavailable
from tests.idp.oidc_provider import (
    OidcProvider,
    oidc_provider_unavailable_reason,
    start_oidc_provider,
)

pytestmark = pytest.mark.django_db

CLIENT_ID = "portal-test"
CLIENT_SECRET = "oidc-client-secret-for-tests"
STATES = "socialaccount_states"  # where allauth keeps each sign-in's state in the session


# Every test's option has this public id, so one provider (registered for its redirect URI)
# serves the whole module; each test still gets its own database row.
OPTION_ID = uuid.UUID("6d1f3c2e-0b7a-4f57-9a53-5b1e8c0a9f10")
ACCOUNTS = {
    "alice": {"email": "alice@example.org", "name": "Alice Admin"},
    "bob": {"email": "bob@example.org", "name": "Bob Staff"},
    "mallory": {"email": "mallory@example.org", "name": "Mallory"},
    "newbie": {"email": "newbie@example.org", "name": "New Clerk"},
    "eve": {"email": "mayor@example.org", "email_verified": False, "name": "Eve"},
}


def agency_a_host() -> str:
    return f"alpha.{django_settings.PORTAL_BASE_DOMAIN}"  # the tenant fixture's host


def redirect_uri(public_id, host: str) -> str:
    return f"http://{host}" + reverse(
        "accounts:oidc_callback", kwargs={"provider_id": str(public_id)}
    )


@pytest.fixture(scope="module")
def shared_provider():
    """One running provider for the module (starting node takes most of a second)."""
    reason = oidc_provider_unavailable_reason()
    if reason:
        service_unavailable(f"the OpenID Connect provider cannot run: {reason}")
    with start_oidc_provider(
        redirect_uris=[redirect_uri(OPTION_ID, agency_a_host())],
        accounts=ACCOUNTS,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    ) as provider:
        yield provider


@dataclass
class Oidc:
    """An agency's OIDC sign-in option and the running provider it points at."""

    row: IdentityProvider
    provider: OidcProvider
    host: str


@pytest.fixture
def start_oidc(tenant, shared_provider):
    """``start_oidc(provision_role="staff")``: agency A's OIDC option, pointing at the
    module's provider."""
    assert tenant.host == agency_a_host()

    def start(*, provision_role: str = Role.STAFF) -> Oidc:
        with agency_context(tenant.agency):
            row = IdentityProvider(
                agency=tenant.agency,
                public_id=OPTION_ID,
                kind=ProviderKind.OIDC,
                name="City Okta",
                settings={"issuer": shared_provider.issuer, "client_id": CLIENT_ID},
                provision_role=provision_role,
            )
            config.set_secret(row, CLIENT_SECRET)
            row.save()
        return Oidc(row=row, provider=shared_provider, host=tenant.host)

    return start


def local(url: str, host: str) -> str:
    """The path and query of a URL the provider sent the browser to on ``host``."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", host), url
    return f"{parts.path}?{parts.query}"


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def begin(client, setup: Oidc):
    """Press the sign-in button; returns the redirect to the provider."""
    response = client.post(config.sign_in_path(setup.row), {"next": "/"})
    assert response.status_code == 302, h.explain(response)
    return response


def at_provider(setup: Oidc, start_response, account: str) -> str:
    """Sign in at the provider; returns the callback path and query on the portal."""
    return local(setup.provider.authorize(start_response["Location"], account=account), setup.host)


def sign_in(client, setup: Oidc, account: str):
    """The whole round trip; returns the portal's answer to the callback."""
    return client.get(at_provider(setup, begin(client, setup), account))


def link_identity(agency, row, user, subject: str) -> None:
    with agency_context(agency):
        ExternalIdentity.objects.create(agency=agency, provider=row, subject=subject, user=user)


# --- The flow -------------------------------------------------------------------------------


def test_sign_in_uses_state_nonce_and_pkce_and_creates_an_account_with_the_provisioning_role(
    tenant, start_oidc
):
    setup = start_oidc(provision_role=Role.STAFF)
    client = h.anonymous_client(tenant.host)

    started = begin(client, setup)

    authorize = setup.provider.metadata()["authorization_endpoint"]
    assert started["Location"].startswith(authorize + "?")
    params = query(started["Location"])
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"http://{tenant.host}{config.callback_path(setup.row)}"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(params["state"]) >= 16 and len(params["nonce"]) >= 32
    stashed, _at, provider_id = client.session[STATES][params["state"]]
    assert provider_id == str(setup.row.public_id)
    assert stashed["nonce"] == params["nonce"]
    assert stashed["pkce_code_verifier"] not in started["Location"]

    response = client.get(at_provider(setup, started, "alice"))

    assert response.status_code == 302, h.explain(response)
    assert response["Location"] == "/staff/requests/"  # staff with no page asked for: their queue
    alice = User.objects.get(email="alice@example.org")
    assert h.signed_in_user_id(client) == alice.pk
    assert alice.full_name == "Alice Admin"
    assert h.membership(tenant.agency, alice).role == Role.STAFF
    (identity,) = h.identities(tenant.agency, setup.row)
    assert (identity.user, identity.subject) == (alice, "alice")
    assert h.actions(tenant.agency) == ["sso.linked", "sso.provisioned", "auth.login", "sso.login"]
    (login,) = h.events(tenant.agency, "auth.login")
    assert (login.actor_id, login.details["method"]) == (alice.pk, "oidc")
    assert params["state"] not in client.session.get(STATES, {})  # used once


def test_second_sign_in_finds_the_account_by_subject_even_after_the_email_claim_changed(
    tenant, start_oidc, oidc_provider_factory
):
    setup = start_oidc()
    first = sign_in(h.anonymous_client(tenant.host), setup, "alice")
    assert first.status_code == 302, h.explain(first)
    alice = User.objects.get(email="alice@example.org")
    # The agency's provider now says another address for the same subject.
    renamed = oidc_provider_factory(
        redirect_uris=[redirect_uri(OPTION_ID, tenant.host)],
        accounts={"alice": {"email": "alice.smith@example.org", "name": "Alice Smith"}},
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    h.update_provider(setup.row, settings={"issuer": renamed.issuer})
    client = h.anonymous_client(tenant.host)

    again = sign_in(client, Oidc(row=setup.row, provider=renamed, host=tenant.host), "alice")

    assert again.status_code == 302, h.explain(again)
    assert h.signed_in_user_id(client) == alice.pk
    assert not User.objects.filter(email="alice.smith@example.org").exists()
    assert len(h.identities(tenant.agency)) == 1
    assert len(h.events(tenant.agency, "sso.provisioned")) == 1
    assert [e.actor_id for e in h.events(tenant.agency, "sso.login")] == [alice.pk, alice.pk]


def test_unknown_subject_without_provisioning_is_refused_with_a_clear_message(tenant, start_oidc):
    setup = start_oidc(provision_role="")
    client = h.anonymous_client(tenant.host)

    response = sign_in(client, setup, "alice")

    assert response.status_code == 403, h.explain(response)
    assert (
        "You signed in with City Okta, but no account here is linked to it yet. Ask an "
        f"administrator of {tenant.agency.name} for an invitation." in h.text(response)
    )
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="alice@example.org").exists()
    assert h.failure_reasons(tenant.agency) == ["unknown subject"]
    assert "auth.login" not in h.actions(tenant.agency)


@pytest.mark.parametrize(
    ("provision_role", "reason"),
    [("", "unknown subject"), (Role.STAFF, "email already has an account")],
)
def test_existing_portal_account_with_the_same_email_is_never_signed_in_by_email(
    tenant, start_oidc, provision_role, reason
):
    existing = UserFactory(email="alice@example.org")
    setup = start_oidc(provision_role=provision_role)
    client = h.anonymous_client(tenant.host)

    response = sign_in(client, setup, "alice")

    assert response.status_code == 403, h.explain(response)
    assert h.signed_in_user_id(client) is None
    assert h.identities(tenant.agency) == []
    assert h.membership(tenant.agency, existing) is None
    assert h.failure_reasons(tenant.agency) == [reason]


def test_unverified_email_claim_does_not_get_an_account(tenant, start_oidc):
    setup = start_oidc(provision_role=Role.STAFF)  # "eve" claims an address not verified
    client = h.anonymous_client(tenant.host)

    response = sign_in(client, setup, "eve")

    assert response.status_code == 403, h.explain(response)
    assert "City Okta has not verified your email address" in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="mayor@example.org").exists()
    assert h.failure_reasons(tenant.agency) == ["email not verified"]


# --- Responses that are not for this sign-in ---------------------------------------------------


@pytest.mark.parametrize("browser", ["same browser, signed out", "another browser"])
def test_callback_replayed_is_refused(tenant, start_oidc, browser):
    setup = start_oidc()
    client = h.anonymous_client(tenant.host)
    callback = at_provider(setup, begin(client, setup), "alice")
    assert client.get(callback).status_code == 302
    if browser == "another browser":
        client = h.anonymous_client(tenant.host)
    else:
        client.post(reverse("accounts:logout"))
        assert h.signed_in_user_id(client) is None

    replayed = client.get(callback)

    assert replayed.status_code == 400, h.explain(replayed)
    assert h.GENERIC_SSO_ERROR in h.text(replayed)
    assert h.signed_in_user_id(client) is None
    assert len(h.events(tenant.agency, "sso.failed")) == 1
    assert len(h.events(tenant.agency, "sso.login")) == 1


def test_tampered_state_is_refused(tenant, start_oidc):
    setup = start_oidc()
    client = h.anonymous_client(tenant.host)
    callback = at_provider(setup, begin(client, setup), "alice")
    state = query(callback)["state"]

    response = client.get(callback.replace(f"state={state}", f"state={state[::-1]}x"))

    assert response.status_code == 400, h.explain(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="alice@example.org").exists()
    assert len(h.events(tenant.agency, "sso.failed")) == 1


def test_sign_in_cancelled_at_the_provider_ends_on_the_error_page(tenant, start_oidc):
    setup = start_oidc()
    client = h.anonymous_client(tenant.host)
    state = query(begin(client, setup)["Location"])["state"]

    response = client.get(
        config.callback_path(setup.row), {"error": "access_denied", "state": state}
    )

    assert response.status_code == 400, h.explain(response)
    assert h.GENERIC_SSO_ERROR in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert h.failure_reasons(tenant.agency) == ["cancelled"]


def test_provider_that_does_not_answer_ends_on_the_error_page(tenant):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    row = h.make_provider(
        tenant.agency,
        ProviderKind.OIDC,
        name="City Okta",
        settings={"issuer": closed, "client_id": CLIENT_ID},
        secret=CLIENT_SECRET,
    )
    client = h.anonymous_client(tenant.host)

    response = client.post(config.sign_in_path(row), {"next": "/"})

    assert response.status_code == 400, h.explain(response)
    assert h.GENERIC_SSO_ERROR in h.text(response)
    (reason,) = h.failure_reasons(tenant.agency)
    assert reason.startswith("error: ")


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [("/requests/new/", "/requests/new/"), ("https://evil.example.test/", "/staff/requests/")],
)
def test_sign_in_returns_only_to_a_page_of_this_site(tenant, start_oidc, next_url, lands_on):
    setup = start_oidc()
    client = h.anonymous_client(tenant.host)
    started = client.post(config.sign_in_path(setup.row), {"next": next_url})
    assert started.status_code == 302, h.explain(started)

    response = client.get(at_provider(setup, started, "bob"))

    assert response.status_code == 302, h.explain(response)
    assert response["Location"] == lands_on
    assert h.signed_in_user_id(client) == User.objects.get(email="bob@example.org").pk


def test_nonce_that_does_not_match_the_sign_in_is_refused(tenant, start_oidc):
    setup = start_oidc()
    client = h.anonymous_client(tenant.host)
    started = begin(client, setup)
    # The ID token will carry the nonce sent to the provider; the session now expects another.
    session = client.session
    state_id = query(started["Location"])["state"]
    session[STATES][state_id][0]["nonce"] = "a-nonce-this-browser-never-sent"
    session.save()

    response = client.get(at_provider(setup, started, "alice"))

    assert response.status_code == 400, h.explain(response)
    assert "That sign-in response was not for this sign-in." in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="alice@example.org").exists()
    assert h.failure_reasons(tenant.agency) == ["nonce mismatch"]


def test_provider_of_one_agency_answers_404_on_another_agencys_host(
    tenant, other_tenant, start_oidc
):
    setup = start_oidc()
    client = h.anonymous_client(other_tenant.host)

    start = client.post(config.sign_in_path(setup.row), {"next": "/"})
    callback = client.get(config.callback_path(setup.row), {"code": "x", "state": "y"})

    assert start.status_code == callback.status_code == 404
    assert STATES not in client.session
    assert h.actions(tenant.agency) == h.actions(other_tenant.agency) == []


# --- Linking, invitations ------------------------------------------------------------------------


def test_signed_in_person_links_the_provider_to_their_account_and_then_signs_in_with_it(
    tenant, start_oidc
):
    setup = start_oidc(provision_role="")  # invitations only: linking is not provisioning
    resident = tenant.requester
    client = h.anonymous_client(tenant.host)
    signed_in = client.post(
        reverse("accounts:login"), {"username": resident.email, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302, h.explain(signed_in)

    intent = client.post(reverse("accounts:link", args=[setup.row.pk]))
    assert intent.status_code == 302, h.explain(intent)
    linked = sign_in(client, setup, "bob")

    assert linked.status_code == 302, h.explain(linked)
    assert h.signed_in_user_id(client) == resident.pk
    (identity,) = h.identities(tenant.agency, setup.row)
    assert (identity.user, identity.subject) == (resident, "bob")
    (event,) = h.events(tenant.agency, "sso.linked")
    assert event.actor_id == resident.pk
    assert not User.objects.filter(email="bob@example.org").exists()

    later = h.anonymous_client(tenant.host)
    response = sign_in(later, setup, "bob")

    assert response.status_code == 302, h.explain(response)
    assert h.signed_in_user_id(later) == resident.pk
    (sso_login,) = h.events(tenant.agency, "sso.login")
    assert sso_login.actor_id == resident.pk


def test_linking_an_identity_that_belongs_to_someone_else_is_refused(tenant, start_oidc):
    setup = start_oidc(provision_role="")
    link_identity(tenant.agency, setup.row, tenant.staff, "alice")
    resident = tenant.requester
    client = h.anonymous_client(tenant.host)
    signed_in = client.post(
        reverse("accounts:login"), {"username": resident.email, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302, h.explain(signed_in)
    assert client.post(reverse("accounts:link", args=[setup.row.pk])).status_code == 302

    response = sign_in(client, setup, "alice")

    assert response.status_code == 403, h.explain(response)
    assert "That City Okta account is already linked to another account here." in h.text(response)
    assert h.signed_in_user_id(client) == resident.pk  # still themselves, not the staff member
    (identity,) = h.identities(tenant.agency, setup.row)
    assert identity.user == tenant.staff
    assert h.failure_reasons(tenant.agency) == ["already linked to another account"]
    assert h.events(tenant.agency, "sso.linked") == []


def invite(tenant, email: str, role: str) -> str:
    """An invitation from agency A's admin; returns the path of the link in the email."""
    with agency_context(tenant.agency):
        sent = invitations.invitation_create(
            agency=tenant.agency, actor=tenant.admin, email=email, role=role
        )
    return urlsplit(sent.link).path


def accept_through_sso(client, setup: Oidc, invitation_path: str, account: str):
    page = client.get(invitation_path)
    assert page.status_code == 200, h.explain(page)
    chosen = client.post(invitation_path, {"sso": "1"})
    assert chosen.status_code == 302, h.explain(chosen)
    options = client.get(chosen["Location"])
    assert options.status_code == 200, h.explain(options)
    assert config.sign_in_path(setup.row) in h.text(options)
    return sign_in(client, setup, account)


def test_invitation_accepted_through_the_provider_gives_the_invited_role_and_links_the_account(
    tenant, start_oidc
):
    setup = start_oidc(provision_role="")
    path = invite(tenant, "newbie@example.org", Role.PUBLISHER)
    client = h.anonymous_client(tenant.host)

    response = accept_through_sso(client, setup, path, "newbie")

    assert response.status_code == 302, h.explain(response)
    newbie = User.objects.get(email="newbie@example.org")
    assert h.signed_in_user_id(client) == newbie.pk
    assert h.membership(tenant.agency, newbie).role == Role.PUBLISHER
    (identity,) = h.identities(tenant.agency, setup.row)
    assert (identity.user, identity.subject) == (newbie, "newbie")
    with agency_context(tenant.agency):
        invitation = Invitation.objects.get(agency=tenant.agency, email="newbie@example.org")
    assert invitation.accepted_by == newbie
    for action in ("users.invitation_accepted", "sso.linked", "sso.login", "auth.login"):
        assert [e.actor_id for e in h.events(tenant.agency, action)] == [newbie.pk], action


def test_invitation_through_the_provider_is_refused_for_an_account_with_another_address(
    tenant, start_oidc
):
    setup = start_oidc(provision_role="")
    path = invite(tenant, "newbie@example.org", Role.PUBLISHER)
    client = h.anonymous_client(tenant.host)

    response = accept_through_sso(client, setup, path, "mallory")

    assert response.status_code == 403, h.explain(response)
    assert "This invitation was sent to a different address" in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email__in=["newbie@example.org", "mallory@example.org"])
    assert h.identities(tenant.agency) == []
    with agency_context(tenant.agency):
        assert Invitation.objects.get(agency=tenant.agency).accepted_at is None
    assert h.failure_reasons(tenant.agency) == ["invitation for another address"]


# --- Two-factor ---------------------------------------------------------------------------------


def test_admin_signing_in_through_a_trusted_provider_reaches_the_staff_area_without_a_code(
    tenant, start_oidc
):
    setup = start_oidc(provision_role="")
    link_identity(tenant.agency, setup.row, tenant.admin, "alice")
    assert Agency.objects.get(pk=tenant.agency.pk).sso_counts_as_mfa  # the default
    client = h.anonymous_client(tenant.host)

    response = sign_in(client, setup, "alice")

    assert response.status_code == 302, h.explain(response)
    assert response["Location"] == "/staff/requests/"  # staff with no page asked for: their queue
    assert h.signed_in_user_id(client) == tenant.admin.pk
    assert client.session["_mfa_method"] == "sso"
    staff_page = client.get(reverse("staff:staff_dashboard"))
    assert staff_page.status_code == 200, h.explain(staff_page)
    (login,) = h.events(tenant.agency, "auth.login")
    assert (login.actor_id, login.details["method"]) == (tenant.admin.pk, "oidc")
    assert h.events(tenant.agency, "mfa.verified") == []


def test_admin_with_an_authenticator_must_enter_a_code_when_the_provider_is_not_trusted_for_it(
    tenant, start_oidc
):
    Agency.objects.filter(pk=tenant.agency.pk).update(sso_counts_as_mfa=False)
    add_authenticator(tenant.admin, name="Phone")
    setup = start_oidc(provision_role="")
    link_identity(tenant.agency, setup.row, tenant.admin, "alice")
    client = h.anonymous_client(tenant.host)

    response = sign_in(client, setup, "alice")

    assert response.status_code == 302, h.explain(response)
    assert response["Location"] == reverse("accounts:mfa_verify")
    assert h.signed_in_user_id(client) is None  # not until the code
    code_page = client.get(response["Location"])
    assert code_page.status_code == 200, h.explain(code_page)
    assert client.get(reverse("staff:staff_dashboard")).status_code == 302
    assert "auth.login" not in h.actions(tenant.agency)


def test_sign_on_at_one_agency_cannot_strip_the_two_factor_or_email_of_another_agencys_admin(
    tenant, other_tenant, start_oidc
):
    # The reviewer's exploit: whoever controls agency A's identity provider signs in as
    # someone who is staff at A and admin at agency B (with an authenticator), then tries
    # the account-wide changes that would let them reset the password and become B's admin.
    victim = other_tenant.admin
    device = add_authenticator(victim, name="Phone")
    with agency_context(tenant.agency):
        MembershipFactory(agency=tenant.agency, user=victim, role=Role.STAFF)
    setup = start_oidc(provision_role="")
    link_identity(tenant.agency, setup.row, victim, "mallory")
    attacker = h.anonymous_client(tenant.host)

    signed_in = sign_in(attacker, setup, "mallory")
    assert signed_in.status_code == 302, h.explain(signed_in)
    assert h.signed_in_user_id(attacker) == victim.pk  # the provider vouched, no code asked

    attempts = {
        "turn two-factor off": attacker.post(reverse("accounts:mfa_disable")),
        "make recovery codes": attacker.post(reverse("accounts:mfa_recovery_codes")),
        "change the email": attacker.post(
            reverse("accounts:email_change"), {"email": "mallory@evil.example"}
        ),
        "change the password": attacker.get(reverse("accounts:password_change")),
    }

    for what, response in attempts.items():
        assert response.status_code == 302, what
        location = response["Location"]
        assert location.startswith(reverse("accounts:reauthenticate") + "?"), (what, location)
        confirm = attacker.get(location)
        assert confirm.status_code == 200, what
        assert config.sign_in_path(setup.row) not in h.text(confirm), what  # no SSO offered
        assert "single sign-on can't confirm it" in h.text(confirm), what
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
    assert not RecoveryCode.objects.filter(user=victim).exists()
    victim.refresh_from_db()
    assert victim.email == "admin@bravo.test"
    assert not EmailChange.objects.filter(user=victim).exists()
    for event in ("mfa.disabled", "mfa.recovery_codes_created", "account.email_change_requested"):
        assert h.events(tenant.agency, event) == [], event

    # Signing in with the provider again ("re-authentication") proves no more than before.
    again = sign_in(attacker, setup, "mallory")
    assert again.status_code == 302, h.explain(again)
    assert attacker.post(reverse("accounts:mfa_disable")).status_code == 302
    assert mfa.has_second_factor(victim)


# --- Admin pages --------------------------------------------------------------------------------


def test_admin_adds_an_oidc_provider_and_people_sign_in_with_it(
    client_for, tenant, oidc_provider_factory
):
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City Okta",
        "is_enabled": "on",
        "provision_role": Role.STAFF,
        "role_mapping": "",
        "issuer": "http://127.0.0.1:9",  # corrected below, once the provider runs
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "groups_claim": "groups",
    }
    created = admin.post(reverse("staff:provider_new", args=[ProviderKind.OIDC]), form)
    assert created.status_code == 302, h.explain(created)
    edit_url = created["Location"]
    page = admin.get(edit_url)
    assert page.status_code == 200, h.explain(page)
    with agency_context(tenant.agency):
        row = IdentityProvider.objects.get(agency=tenant.agency)
    callback = redirect_uri(row.public_id, tenant.host)
    assert callback in h.text(page)  # what the admin registers at the provider
    assert CLIENT_SECRET not in h.text(page)
    assert CLIENT_SECRET.encode() not in bytes(row.sealed_secret)

    provider = oidc_provider_factory(
        redirect_uris=[callback], client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    # A new issuer needs the secret again (the saved one never goes somewhere new).
    saved = admin.post(edit_url, {**form, "issuer": provider.issuer})
    assert saved.status_code == 302, h.explain(saved)
    client = h.anonymous_client(tenant.host)
    response = sign_in(client, Oidc(row=row, provider=provider, host=tenant.host), "bob")

    assert response.status_code == 302, h.explain(response)
    assert h.signed_in_user_id(client) == User.objects.get(email="bob@example.org").pk
    assert {"sso.provider_created", "sso.provider_updated"} <= set(h.actions(tenant.agency))
    assert all(CLIENT_SECRET not in json.dumps(e.details) for e in h.events(tenant.agency))


@pytest.mark.parametrize("tenant_id", ["common", "organizations", "consumers", ""])
def test_microsoft_option_refuses_a_tenant_other_than_the_agencys_own_directory(
    client_for, tenant, tenant_id
):
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City Microsoft",
        "is_enabled": "on",
        "client_id": "00000000-aaaa-bbbb-cccc-000000000001",
        "client_secret": "entra-secret",
        "tenant_id": tenant_id,
        "groups_claim": "groups",
    }

    response = admin.post(reverse("staff:provider_new", args=[ProviderKind.MICROSOFT]), form)

    assert response.status_code == 400, h.explain(response)
    with agency_context(tenant.agency):
        assert not IdentityProvider.objects.filter(agency=tenant.agency).exists()
    assert h.events(tenant.agency, "sso.provider_created") == []


def test_microsoft_option_with_a_tenant_guid_uses_that_tenants_own_authority(client_for, tenant):
    tenant_id = str(uuid.uuid4())
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City Microsoft",
        "is_enabled": "on",
        "client_id": "00000000-aaaa-bbbb-cccc-000000000001",
        "client_secret": "entra-secret",
        "tenant_id": tenant_id,
        "groups_claim": "groups",
    }

    response = admin.post(reverse("staff:provider_new", args=[ProviderKind.MICROSOFT]), form)

    assert response.status_code == 302, h.explain(response)
    with agency_context(tenant.agency):
        row = IdentityProvider.objects.get(agency=tenant.agency)
    app = config.social_app(row)
    assert app.settings["server_url"] == f"https://login.microsoftonline.com/{tenant_id}/v2.0"
    assert app.settings["oauth_pkce_enabled"] is True
    assert app.settings["fetch_userinfo"] is False
    assert (app.client_id, app.secret) == (form["client_id"], "entra-secret")
    (created,) = h.events(tenant.agency, "sso.provider_created")
    assert created.details["settings"]["tenant_id"] == tenant_id


def test_google_option_uses_googles_issuer_and_asks_for_the_workspace_domain(tenant):
    row = h.make_provider(
        tenant.agency,
        ProviderKind.GOOGLE,
        settings={"client_id": "g-client", "hosted_domain": "springfield.gov"},
        secret="g-secret",
    )

    app = config.social_app(row)

    assert app.settings["server_url"] == "https://accounts.google.com"
    assert app.settings["auth_params"]["hd"] == "springfield.gov"
    assert app.settings["oauth_pkce_enabled"] is True


# --- The portal's own checks of the ID token (claims_from) -----------------------------------

TENANT_GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
NONCE = "nonce-sent-with-this-sign-in"


def sociallogin(token: dict, *, nonce: str | None = NONCE):
    """What claims_from reads of allauth's SocialLogin: the verified ID token and the state."""
    return SimpleNamespace(
        account=SimpleNamespace(extra_data={"id_token": token}),
        state={"nonce": nonce} if nonce is not None else {},
    )


def microsoft(tenant_id: str = TENANT_GUID) -> IdentityProvider:
    return IdentityProvider(
        kind=ProviderKind.MICROSOFT, name="City Microsoft", settings={"tenant_id": tenant_id}
    )


def google() -> IdentityProvider:
    return IdentityProvider(
        kind=ProviderKind.GOOGLE, name="City Google", settings={"hosted_domain": "springfield.gov"}
    )


def refusal(provider, token: dict, **kwargs) -> str:
    with pytest.raises(SsoRefused) as refused:
        oidc.claims_from(provider, sociallogin(token, **kwargs))
    return refused.value.reason


def test_microsoft_token_of_the_agencys_tenant_is_accepted():
    token = {"sub": "m-1", "tid": TENANT_GUID, "preferred_username": "al@city.gov", "nonce": NONCE}

    claims = oidc.claims_from(microsoft(), sociallogin(token))

    assert (claims.subject, claims.email, claims.email_verified) == ("m-1", "al@city.gov", True)


@pytest.mark.parametrize("tid", ["9188040d-6c67-4c5b-b112-36a304b66dad", None])
def test_microsoft_token_from_another_tenant_is_refused(tid):
    token = {"sub": "m-1", "tid": tid, "email": "al@city.gov", "nonce": NONCE}

    assert refusal(microsoft(), token) == "another Entra tenant"


def test_microsoft_tenant_id_is_compared_without_regard_to_case():
    # GUIDs are case-insensitive; Entra writes tid in lower case, an admin may paste upper.
    token = {"sub": "m-1", "tid": TENANT_GUID, "email": "al@city.gov", "nonce": NONCE}

    claims = oidc.claims_from(microsoft(TENANT_GUID.upper()), sociallogin(token))

    assert claims.subject == "m-1"


def test_google_token_of_the_workspace_with_a_verified_email_is_accepted():
    token = {
        "sub": "g-1",
        "hd": "springfield.gov",
        "email": "al@springfield.gov",
        "email_verified": True,
        "nonce": NONCE,
    }

    claims = oidc.claims_from(google(), sociallogin(token))

    assert (claims.subject, claims.email, claims.email_verified) == (
        "g-1",
        "al@springfield.gov",
        True,
    )


@pytest.mark.parametrize("hd", ["shelbyville.gov", None])
def test_google_token_outside_the_workspace_domain_is_refused(hd):
    token = {"sub": "g-1", "hd": hd, "email": "al@x.gov", "email_verified": True, "nonce": NONCE}

    assert refusal(google(), {k: v for k, v in token.items() if v is not None}) == (
        "another Google domain"
    )


def test_google_token_with_an_unverified_email_is_refused():
    token = {
        "sub": "g-1",
        "hd": "springfield.gov",
        "email": "al@springfield.gov",
        "email_verified": False,
        "nonce": NONCE,
    }

    assert refusal(google(), token) == "email not verified"


@pytest.mark.parametrize(
    ("token_nonce", "state_nonce"),
    [("another-sign-in", NONCE), (None, NONCE), (NONCE, None), ("", "")],
)
def test_token_whose_nonce_is_not_this_sign_ins_is_refused(token_nonce, state_nonce):
    token = {"sub": "m-1", "tid": TENANT_GUID, "email": "al@city.gov"}
    if token_nonce is not None:
        token["nonce"] = token_nonce

    assert refusal(microsoft(), token, nonce=state_nonce) == "nonce mismatch"


def test_microsoft_email_claim_is_not_taken_as_verified_without_xms_edov():
    # Entra's email claim is a mail attribute a user or app may set; only the UPN is the
    # tenant's own assignment (tid was checked).
    token = {"sub": "m-1", "tid": TENANT_GUID, "email": "mayor@city.gov", "nonce": NONCE}

    claims = oidc.claims_from(microsoft(), sociallogin(token))

    assert (claims.email, claims.email_verified) == ("mayor@city.gov", False)


@pytest.mark.parametrize("xms_edov", [True, "true", "1"])
def test_microsoft_email_claim_counts_as_verified_when_entra_says_so(xms_edov):
    token = {
        "sub": "m-1",
        "tid": TENANT_GUID,
        "email": "al@city.gov",
        "xms_edov": xms_edov,
        "nonce": NONCE,
    }

    claims = oidc.claims_from(microsoft(), sociallogin(token))

    assert (claims.email, claims.email_verified) == ("al@city.gov", True)


def test_microsoft_sign_in_name_wins_over_the_email_claim():
    token = {
        "sub": "m-1",
        "tid": TENANT_GUID,
        "preferred_username": "al@city.gov",
        "email": "someone.else@other.gov",
        "nonce": NONCE,
    }

    claims = oidc.claims_from(microsoft(), sociallogin(token))

    assert (claims.email, claims.email_verified) == ("al@city.gov", True)


# --- Where the portal's server connects ---------------------------------------------------------


class _Discovery(BaseHTTPRequestHandler):
    document: dict = {}

    def do_GET(self):
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def discovery_server():
    """A local issuer whose discovery document a test writes (``serve(document)``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}"

    def serve(**endpoints) -> str:
        _Discovery.document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            **endpoints,
        }
        return issuer

    yield serve
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "endpoints",
    [
        {"token_endpoint": "http://169.254.169.254/latest/meta-data/"},
        {"jwks_uri": "http://10.0.0.5/keys"},
        {"authorization_endpoint": "file:///etc/passwd"},
        {"token_endpoint": ""},
    ],
    ids=["token at the metadata service", "keys on plain http", "not http", "missing"],
)
def test_discovery_document_naming_an_endpoint_the_portal_may_not_call_stops_the_sign_in(
    tenant, discovery_server, endpoints
):
    issuer = discovery_server(**endpoints)
    row = h.make_provider(
        tenant.agency,
        ProviderKind.OIDC,
        name="City Okta",
        settings={"issuer": issuer, "client_id": CLIENT_ID},
        secret=CLIENT_SECRET,
    )
    client = h.anonymous_client(tenant.host)

    response = client.post(config.sign_in_path(row), {"next": "/"})

    assert response.status_code == 400, h.explain(response)
    assert h.GENERIC_SSO_ERROR in h.text(response)
    (reason,) = h.failure_reasons(tenant.agency)
    (name,) = endpoints
    assert reason.startswith(f"discovery document refused: {name}"), reason


def test_discovery_document_of_a_well_behaved_local_issuer_is_followed(tenant, discovery_server):
    issuer = discovery_server()
    row = h.make_provider(
        tenant.agency,
        ProviderKind.OIDC,
        settings={"issuer": issuer, "client_id": CLIENT_ID},
        secret=CLIENT_SECRET,
    )

    response = h.anonymous_client(tenant.host).post(config.sign_in_path(row), {"next": "/"})

    assert response.status_code == 302, h.explain(response)
    assert response["Location"].startswith(f"{issuer}/auth?")


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/token", "https://localhost/keys", "http://127.0.0.1:8080/auth"],
)
def test_discovered_endpoints_on_loopback_are_refused_where_loopback_providers_are_not_allowed(
    settings, url
):
    settings.SSO_ALLOW_LOOPBACK_PROVIDERS = False
    document = {  # an address literal: checked without a DNS look-up (none here)
        "authorization_endpoint": "https://192.0.2.10/auth",
        "token_endpoint": "https://192.0.2.10/token",
        "jwks_uri": url,
    }

    with pytest.raises(oidc.UnsafeDiscoveredEndpoint, match="jwks_uri"):
        oidc.check_discovered_endpoints(document)

    settings.SSO_ALLOW_LOOPBACK_PROVIDERS = True
    oidc.check_discovered_endpoints(document)  # development and tests: allowed


@pytest.mark.parametrize(
    ("field", "value"),
    [("issuer", "http://127.0.0.1:10/"), ("client_id", "another-client")],
)
def test_pointing_an_oidc_option_elsewhere_needs_the_client_secret_again(
    client_for, tenant, field, value
):
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City Okta",
        "is_enabled": "on",
        "provision_role": "",
        "role_mapping": "",
        "issuer": "http://127.0.0.1:9",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "groups_claim": "groups",
    }
    created = admin.post(reverse("staff:provider_new", args=[ProviderKind.OIDC]), form)
    assert created.status_code == 302, h.explain(created)
    with agency_context(tenant.agency):
        row = IdentityProvider.objects.get(agency=tenant.agency)

    refused = admin.post(created["Location"], {**form, field: value, "client_secret": ""})
    renamed = admin.post(created["Location"], {**form, "name": "Okta", "client_secret": ""})

    assert refused.status_code == 400, h.explain(refused)
    errors = refused.context["form"].errors
    assert "Enter the client secret again" in " ".join(errors["client_secret"])
    assert renamed.status_code == 302, h.explain(renamed)  # nothing about the endpoint
    with agency_context(tenant.agency):
        row.refresh_from_db()
    assert row.settings[field] == form[field]
    assert config.get_secret(row) == CLIENT_SECRET
    assert len(h.events(tenant.agency, "sso.provider_updated")) == 1

    moved = admin.post(created["Location"], {**form, field: value, "client_secret": "new-one"})

    assert moved.status_code == 302, h.explain(moved)
    with agency_context(tenant.agency):
        row.refresh_from_db()
    assert (row.settings[field], config.get_secret(row)) == (value, "new-one")
