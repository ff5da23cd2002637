"""SAML 2.0 sign-in end to end, with responses built and signed the way AD FS, Entra ID and Okta
post them (tests/idp/saml.py).

The test client plays the browser: it presses the agency's sign-in button (an AuthnRequest
to the IdP), posts the IdP's signed response to the ACS URL and follows the portal to its
finishing step. Everything the portal must refuse (replays, tampering, missing or foreign
signatures, wrong audience, expired or unsolicited responses, unknown people) ends on the
portal's error page with an audit event, never in a server error or a session.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from accounts.models import IdentityProvider, ProviderKind, Role, SamlAssertionUse, User
from accounts.sso import config
from accounts.tenancy import agency_context
from tests.accounts import sso_helpers as h
from tests.idp.saml import NAMEID_EMAIL, TestSamlIdP, parse_authn_request, tamper

pytestmark = pytest.mark.django_db

EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
NAME_ID = "alice-persistent-id"
STATES = "socialaccount_states"


def saml_settings(idp: TestSamlIdP) -> dict:
    return {
        "idp_entity_id": idp.entity_id,
        "idp_sso_url": idp.sso_url,
        "idp_x509cert": idp.cert_base64,
        "email_attribute": EMAIL,
        "name_attribute": NAME,
        "groups_attribute": "",
    }


@pytest.fixture
def option(tenant, saml_idp) -> IdentityProvider:
    """Agency A's SAML option; the IdP vouches for new staff (provision_role)."""
    return h.make_provider(
        tenant.agency,
        ProviderKind.SAML,
        name="City AD FS",
        settings=saml_settings(saml_idp),
        provision_role=Role.STAFF,
    )


def acs_url(host: str, row: IdentityProvider) -> str:
    return f"http://{host}{config.callback_path(row)}"


def metadata_url(host: str, row: IdentityProvider) -> str:
    """The service provider's entity id, hence the audience the IdP must name."""
    return f"http://{host}{config.metadata_path(row)}"


def begin(client, row, idp):
    """Press the sign-in button; returns the AuthnRequest the portal sent to the IdP."""
    response = client.post(config.sign_in_path(row), {"next": "/"})
    assert response.status_code == 302, h.explain(response)
    assert response["Location"].startswith(idp.sso_url + "?SAMLRequest=")
    return parse_authn_request(response["Location"])


def signed_response(idp, host, row, request_id, **overrides) -> str:
    arguments = {
        "acs_url": acs_url(host, row),
        "audience": metadata_url(host, row),
        "in_response_to": request_id,
        "name_id": NAME_ID,
        "attributes": {EMAIL: ["alice@example.org"], NAME: ["Alice Admin"]},
    }
    return idp.response(**(arguments | overrides))


def post_to_acs(client, row, saml_response: str, relay_state: str | None = None):
    """What the IdP's auto-submitting form does, then the portal's redirect to its finish
    step; returns the final answer."""
    data = {"SAMLResponse": saml_response}
    if relay_state:
        data["RelayState"] = relay_state
    posted = client.post(config.callback_path(row), data)
    if posted.status_code != 302:
        return posted
    finish = reverse("saml_finish_acs", kwargs={"organization_slug": str(row.public_id)})
    assert posted["Location"] == finish, h.explain(posted)
    return client.get(posted["Location"])


def sign_in(client, row, idp, host, **overrides):
    """The whole round trip; returns (final answer, SAMLResponse used)."""
    request = begin(client, row, idp)
    saml_response = signed_response(idp, host, row, request.id, **overrides)
    return post_to_acs(client, row, saml_response, request.relay_state), saml_response


def assert_refused(response, client, agency) -> None:
    # A response the portal cannot use (allauth's checks, or the portal's own before anyone
    # is looked up) is a bad request: 400, never a refusal of a known person (403).
    assert response.status_code == 400, h.explain(response)
    assert "We couldn't sign you in" in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="alice@example.org").exists()
    assert h.identities(agency) == []
    assert len(h.events(agency, "sso.failed")) == 1
    assert "sso.login" not in h.actions(agency)


# --- Configuration -----------------------------------------------------------------------------


def test_admin_configures_saml_and_the_metadata_names_the_acs_url(client_for, tenant, saml_idp):
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City AD FS",
        "is_enabled": "on",
        "provision_role": "",
        "role_mapping": "",
        "idp_entity_id": saml_idp.entity_id,
        "idp_sso_url": saml_idp.sso_url,
        "idp_x509cert": saml_idp.cert_base64,
        "email_attribute": EMAIL,
        "name_attribute": NAME,
        "groups_attribute": "",
    }

    created = admin.post(reverse("staff:provider_new", args=[ProviderKind.SAML]), form)

    assert created.status_code == 302, h.explain(created)
    with agency_context(tenant.agency):
        row = IdentityProvider.objects.get(agency=tenant.agency)
    assert row.settings["idp_x509cert"] == saml_idp.cert_base64
    assert row.settings["idp_entity_id"] == saml_idp.entity_id
    edit_page = admin.get(created["Location"])
    assert edit_page.status_code == 200, h.explain(edit_page)
    assert acs_url(tenant.host, row) in h.text(edit_page)
    assert metadata_url(tenant.host, row) in h.text(edit_page)
    (event,) = h.events(tenant.agency, "sso.provider_created")
    assert event.details["kind"] == "saml"

    metadata = h.anonymous_client(tenant.host).get(metadata_url(tenant.host, row))

    assert metadata.status_code == 200, h.explain(metadata)
    assert "xml" in metadata["Content-Type"]
    xml = metadata.content.decode()
    assert f'entityID="{metadata_url(tenant.host, row)}"' in xml
    assert re.search(
        r'<md:AssertionConsumerService [^>]*Location="' + re.escape(acs_url(tenant.host, row)),
        xml,
    )


def test_admin_form_refuses_something_that_is_not_a_certificate(client_for, tenant, saml_idp):
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City AD FS",
        "is_enabled": "on",
        "idp_entity_id": saml_idp.entity_id,
        "idp_sso_url": saml_idp.sso_url,
        "idp_x509cert": "not a certificate",
    }

    response = admin.post(reverse("staff:provider_new", args=[ProviderKind.SAML]), form)

    assert response.status_code == 400, h.explain(response)
    assert "Paste the identity provider's signing certificate." in h.text(response)
    with agency_context(tenant.agency):
        assert not IdentityProvider.objects.filter(agency=tenant.agency).exists()
    assert h.events(tenant.agency, "sso.provider_created") == []


# --- The flow -------------------------------------------------------------------------------------


def test_signed_response_to_the_portals_request_signs_the_person_in(tenant, saml_idp, option):
    client = h.anonymous_client(tenant.host)
    request = begin(client, option, saml_idp)
    assert request.acs_url == acs_url(tenant.host, option)
    assert request.issuer == metadata_url(tenant.host, option)
    assert request.id in client.session[STATES]
    saml_response = signed_response(saml_idp, tenant.host, option, request.id)

    response = post_to_acs(client, option, saml_response, request.relay_state)

    assert response.status_code == 302, h.explain(response)
    assert response["Location"] == "/staff/requests/"  # staff with no page asked for: their queue
    alice = User.objects.get(email="alice@example.org")
    assert h.signed_in_user_id(client) == alice.pk
    assert alice.full_name == "Alice Admin"
    assert h.membership(tenant.agency, alice).role == Role.STAFF
    (identity,) = h.identities(tenant.agency, option)
    assert (identity.user, identity.subject) == (alice, NAME_ID)
    assert h.actions(tenant.agency) == ["sso.linked", "sso.provisioned", "auth.login", "sso.login"]
    (login,) = h.events(tenant.agency, "sso.login")
    assert (login.actor_id, login.details["protocol"]) == (alice.pk, "saml")
    (auth_login,) = h.events(tenant.agency, "auth.login")
    assert auth_login.details["method"] == "saml"
    with agency_context(tenant.agency):
        assert SamlAssertionUse.objects.filter(provider=option).count() == 1


def test_known_subject_signs_in_to_the_same_account_again(tenant, saml_idp, option):
    first, _response = sign_in(h.anonymous_client(tenant.host), option, saml_idp, tenant.host)
    assert first.status_code == 302, h.explain(first)
    alice = User.objects.get(email="alice@example.org")
    client = h.anonymous_client(tenant.host)

    again, _response = sign_in(client, option, saml_idp, tenant.host)

    assert again.status_code == 302, h.explain(again)
    assert h.signed_in_user_id(client) == alice.pk
    assert len(h.identities(tenant.agency)) == 1
    assert [e.actor_id for e in h.events(tenant.agency, "sso.login")] == [alice.pk, alice.pk]


def _two_hours_ago() -> dict:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    return {
        "issue_instant": then,
        "not_before": then,
        "not_on_or_after": then + dt.timedelta(minutes=5),
    }


# case: (what changes in the response, words of the reason it is refused)
REFUSED_RESPONSES = {
    "unsigned": ({"sign_assertion": False}, "The Assertion of the Response is not signed"),
    "signed by another key": ({"signing_idp": TestSamlIdP()}, "Signature validation failed"),
    "only the message signed": (
        {"sign_assertion": False, "sign_response": True},
        "The Assertion of the Response is not signed",
    ),
    "for another service provider": (
        {"audience": "https://other-sp.example.test/"},
        "is not a valid audience",
    ),
    "expired": (_two_hours_ago(), "expired"),
    "from another issuer": ({"issuer": "https://evil.example.test/saml"}, "Invalid issuer"),
    "not answering the portal's request": (
        {"in_response_to": "ONELOGIN_not_mine"},
        "response without a matching sign-in",
    ),
}


def why_refused(caplog, agency) -> str:
    """allauth's logged reason (python3-saml's words) and the audit log's, together."""
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("allauth")]
    return " | ".join(logged + h.failure_reasons(agency))


@pytest.mark.parametrize("case", sorted(REFUSED_RESPONSES))
def test_response_the_portal_cannot_trust_is_refused(tenant, saml_idp, option, case, caplog):
    overrides, reason = REFUSED_RESPONSES[case]
    client = h.anonymous_client(tenant.host)

    response, _saml_response = sign_in(client, option, saml_idp, tenant.host, **overrides)

    assert_refused(response, client, tenant.agency)
    assert reason in why_refused(caplog, tenant.agency)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (f">{NAME_ID}<", ">mallory-persistent-id<"),
        (">alice@example.org<", ">mallory@example.org<"),
    ],
    ids=["name id", "email"],
)
def test_response_changed_after_signing_is_refused(tenant, saml_idp, option, old, new, caplog):
    client = h.anonymous_client(tenant.host)
    request = begin(client, option, saml_idp)
    genuine = signed_response(saml_idp, tenant.host, option, request.id)

    response = post_to_acs(client, option, tamper(genuine, old, new), request.relay_state)

    assert_refused(response, client, tenant.agency)
    assert "Signature validation failed" in why_refused(caplog, tenant.agency)
    assert not User.objects.filter(email="mallory@example.org").exists()


def test_unsolicited_response_from_the_idp_is_refused(tenant, saml_idp, option, caplog):
    client = h.anonymous_client(tenant.host)
    unsolicited = signed_response(saml_idp, tenant.host, option, None)

    response = post_to_acs(client, option, unsolicited)

    assert_refused(response, client, tenant.agency)
    assert "IdP initiated SSO rejected" in why_refused(caplog, tenant.agency)


@pytest.mark.parametrize(
    "posted",
    [{}, {"SAMLResponse": "%%% not base64 %%%"}, {"SAMLResponse": "PG5vdCB4bWw="}],
    ids=["nothing", "not base64", "not XML"],
)
def test_garbage_posted_to_the_acs_url_ends_on_the_error_page(tenant, saml_idp, option, posted):
    client = h.anonymous_client(tenant.host)
    begin(client, option, saml_idp)

    acs = client.post(config.callback_path(option), posted)
    response = client.get(acs["Location"]) if acs.status_code == 302 else acs

    assert_refused(response, client, tenant.agency)


def test_finish_step_opened_without_a_response_ends_on_the_error_page(tenant, option):
    client = h.anonymous_client(tenant.host)

    response = client.get(
        reverse("saml_finish_acs", kwargs={"organization_slug": str(option.public_id)})
    )

    assert_refused(response, client, tenant.agency)


def test_unknown_subject_without_provisioning_is_refused_with_a_clear_message(
    tenant, saml_idp, option
):
    h.update_provider(option, provision_role="")
    client = h.anonymous_client(tenant.host)

    response, _saml_response = sign_in(client, option, saml_idp, tenant.host)

    assert response.status_code == 403, h.explain(response)
    assert "You signed in with City AD FS, but no account here is linked to it yet." in h.text(
        response
    )
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="alice@example.org").exists()
    assert h.failure_reasons(tenant.agency) == ["unknown subject"]


# --- Replays --------------------------------------------------------------------------------------


def _signed_in_once(tenant, saml_idp, option):
    client = h.anonymous_client(tenant.host)
    response, saml_response = sign_in(client, option, saml_idp, tenant.host)
    assert response.status_code == 302, h.explain(response)
    return client, saml_response


@pytest.mark.parametrize("browser", ["same browser, signed out", "another browser"])
def test_response_posted_again_is_refused(tenant, saml_idp, option, browser):
    client, saml_response = _signed_in_once(tenant, saml_idp, option)
    if browser == "another browser":
        client = h.anonymous_client(tenant.host)
    else:
        client.post(reverse("accounts:logout"))
        assert h.signed_in_user_id(client) is None

    replayed = post_to_acs(client, option, saml_response)

    assert replayed.status_code == 400, h.explain(replayed)
    assert "That sign-in response has expired or was already used." in h.text(replayed)
    assert h.signed_in_user_id(client) is None
    assert h.failure_reasons(tenant.agency) == [
        "response without a matching sign-in (replayed or expired)"
    ]
    assert len(h.events(tenant.agency, "sso.login")) == 1


def test_response_posted_again_into_a_session_that_still_expects_it_is_refused(
    tenant, saml_idp, option
):
    # The state of the portal's request copied to a second session (a second tab, a copied
    # cookie): the request state matches there, so only the record of used assertions can
    # stop the replay.
    first_browser = h.anonymous_client(tenant.host)
    request = begin(first_browser, option, saml_idp)
    pending_states = first_browser.session[STATES]
    saml_response = signed_response(saml_idp, tenant.host, option, request.id)
    first = post_to_acs(first_browser, option, saml_response)
    assert first.status_code == 302, h.explain(first)
    client = h.anonymous_client(tenant.host)
    session = client.session
    session[STATES] = pending_states
    session.save()

    replayed = post_to_acs(client, option, saml_response)

    assert replayed.status_code == 400, h.explain(replayed)
    assert "That sign-in response was already used." in h.text(replayed)
    assert h.signed_in_user_id(client) is None
    assert h.failure_reasons(tenant.agency) == ["assertion replayed"]
    assert len(h.events(tenant.agency, "sso.login")) == 1


# --- Other agencies, other options ------------------------------------------------------------


def test_saml_urls_of_one_agency_answer_404_on_another_agencys_host(
    tenant, other_tenant, saml_idp, option
):
    slug = {"organization_slug": str(option.public_id)}
    client = h.anonymous_client(other_tenant.host)

    answers = {
        "login": client.post(reverse("saml_login", kwargs=slug), {"next": "/"}).status_code,
        "acs": client.post(reverse("saml_acs", kwargs=slug), {"SAMLResponse": "x"}).status_code,
        "finish": client.get(reverse("saml_finish_acs", kwargs=slug)).status_code,
        "metadata": client.get(reverse("saml_metadata", kwargs=slug)).status_code,
    }

    assert answers == {"login": 404, "acs": 404, "finish": 404, "metadata": 404}
    assert h.actions(tenant.agency) == h.actions(other_tenant.agency) == []


def test_sign_in_urls_of_one_protocol_answer_404_for_an_option_of_the_other(
    tenant, saml_idp, option
):
    oidc_option = h.make_provider(
        tenant.agency,
        ProviderKind.OIDC,
        settings={"issuer": "https://login.example.test", "client_id": "portal"},
        secret="oidc-secret",
    )
    oidc_slug = {"organization_slug": str(oidc_option.public_id)}
    saml_id = {"provider_id": str(option.public_id)}
    client = h.anonymous_client(tenant.host)

    answers = {
        "saml login": client.post(reverse("saml_login", kwargs=oidc_slug), {"next": "/"}),
        "saml metadata": client.get(reverse("saml_metadata", kwargs=oidc_slug)),
        "oidc login": client.post(reverse("accounts:oidc_login", kwargs=saml_id), {"next": "/"}),
    }

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert STATES not in client.session  # no flow was started
    assert h.actions(tenant.agency) == []


# --- The subject that keys the account --------------------------------------------------------

OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


@pytest.mark.parametrize(
    ("name_id_format", "name_id"),
    [(NAMEID_EMAIL, "alice@example.org"), (UNSPECIFIED, "alice@example.org")],
    ids=["emailAddress", "unspecified"],
)
def test_a_name_id_that_is_not_persistent_is_refused_without_a_stable_id_attribute(
    tenant, saml_idp, option, name_id_format, name_id
):
    client = h.anonymous_client(tenant.host)

    response, _ = sign_in(
        client, option, saml_idp, tenant.host, name_id=name_id, name_id_format=name_id_format
    )

    assert response.status_code == 400, h.explain(response)
    assert "persistent NameID" in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert h.identities(tenant.agency) == []
    assert not User.objects.filter(email="alice@example.org").exists()
    assert h.failure_reasons(tenant.agency) == ["subject is not persistent"]


def test_the_stable_id_attribute_keys_the_account_whatever_the_name_id(tenant, saml_idp, option):
    h.update_provider(option, settings={"subject_attribute": OBJECT_ID})
    attributes = {
        EMAIL: ["alice@example.org"],
        NAME: ["Alice Admin"],
        OBJECT_ID: ["5f0c1b7e-0000-4000-8000-00000000a11c"],
    }
    first_client = h.anonymous_client(tenant.host)
    first, _ = sign_in(
        first_client,
        option,
        saml_idp,
        tenant.host,
        name_id="alice@example.org",
        name_id_format=NAMEID_EMAIL,
        attributes=attributes,
    )
    assert first.status_code == 302, h.explain(first)
    alice = User.objects.get(email="alice@example.org")
    (identity,) = h.identities(tenant.agency, option)
    assert identity.subject == "5f0c1b7e-0000-4000-8000-00000000a11c"

    # The address changes at the IdP; the object id does not: the same account.
    client = h.anonymous_client(tenant.host)
    again, _ = sign_in(
        client,
        option,
        saml_idp,
        tenant.host,
        name_id="alice.smith@example.org",
        name_id_format=NAMEID_EMAIL,
        attributes={**attributes, EMAIL: ["alice.smith@example.org"]},
    )

    assert again.status_code == 302, h.explain(again)
    assert h.signed_in_user_id(client) == alice.pk
    assert len(h.identities(tenant.agency)) == 1


def test_a_response_without_the_configured_stable_id_attribute_is_refused(tenant, saml_idp, option):
    h.update_provider(option, settings={"subject_attribute": OBJECT_ID})
    client = h.anonymous_client(tenant.host)

    response, _ = sign_in(client, option, saml_idp, tenant.host)  # a persistent NameID only

    assert response.status_code == 400, h.explain(response)
    assert h.signed_in_user_id(client) is None
    assert h.identities(tenant.agency) == []
    assert h.failure_reasons(tenant.agency) == ["subject attribute missing"]


def test_admin_sets_the_stable_id_attribute_on_the_saml_form(client_for, tenant, saml_idp):
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City Entra",
        "is_enabled": "on",
        "provision_role": "",
        "role_mapping": "",
        "idp_entity_id": saml_idp.entity_id,
        "idp_sso_url": saml_idp.sso_url,
        "idp_x509cert": saml_idp.cert_base64,
        "email_attribute": EMAIL,
        "name_attribute": NAME,
        "groups_attribute": "",
        "subject_attribute": OBJECT_ID,
    }

    created = admin.post(reverse("staff:provider_new", args=[ProviderKind.SAML]), form)

    assert created.status_code == 302, h.explain(created)
    with agency_context(tenant.agency):
        row = IdentityProvider.objects.get(agency=tenant.agency)
    assert row.settings["subject_attribute"] == OBJECT_ID
    assert config.social_app(row).settings["attribute_mapping"]["uid"] == [OBJECT_ID]
    assert "Stable id attribute" in h.text(admin.get(created["Location"]))
