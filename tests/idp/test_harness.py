"""Self-tests of the identity-provider harness, without the portal app (no database)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.idp.fixtures import seeded_afterwards, service_unavailable
from tests.idp.oidc_provider import (
    OidcAuthorizeError,
    OidcProvider,
    oidc_provider_unavailable_reason,
    start_oidc_provider,
)
from tests.idp.saml import NAMEID_PERSISTENT, TestSamlIdP, decode, parse_authn_request, tamper
from tests.idp.slapd import SEED_GROUPS, SEED_USERS, SlapdServer

ldap = pytest.importorskip("ldap")


# ---- services policy --------------------------------------------------------------------
def test_missing_service_skips_by_default(monkeypatch):
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no such binary"):
        service_unavailable("no such binary")


def test_missing_service_fails_when_services_are_required(monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="no such binary"):
        service_unavailable("no such binary")


# ---- OpenLDAP ---------------------------------------------------------------------------
def _search_uid(conn, server: SlapdServer, uid: str):
    return conn.search_s(
        server.people_dn, ldap.SCOPE_SUBTREE, f"(uid={uid})", ["uid", "mail", "cn", "userPassword"]
    )


def _groups_of(conn, server: SlapdServer, uid: str) -> set[str]:
    found = conn.search_s(
        server.groups_dn,
        ldap.SCOPE_SUBTREE,
        f"(&(objectClass=groupOfNames)(member={server.user_dn(uid)}))",
        ["cn"],
    )
    return {attrs["cn"][0].decode() for _dn, attrs in found}


def test_service_account_finds_alice_without_her_password(slapd):
    conn = slapd.connect(slapd.bind_dn, slapd.bind_password)
    [(dn, attrs)] = _search_uid(conn, slapd, "alice")
    assert dn == slapd.users["alice"]["dn"] == f"uid=alice,{slapd.people_dn}"
    assert attrs["mail"] == [b"alice@example.org"]
    assert attrs["cn"] == [slapd.users["alice"]["cn"].encode()]
    assert "userPassword" not in attrs
    assert slapd.uri.startswith("ldap://127.0.0.1:")


def test_rootdn_sees_ssha_password_hashes(slapd):
    conn = slapd.connect()
    [(_dn, attrs)] = _search_uid(conn, slapd, "bob")
    assert attrs["userPassword"][0].startswith(b"{SSHA}")


def test_anonymous_clients_cannot_search_or_read_passwords(slapd):
    conn = ldap.initialize(slapd.uri)
    try:
        found = _search_uid(conn, slapd, "alice")
    except ldap.LDAPError:
        found = []
    assert all("userPassword" not in attrs for _dn, attrs in found)
    assert found == []


def test_user_binds_with_own_password_only(slapd):
    alice = slapd.users["alice"]
    conn = slapd.connect(alice["dn"], alice["password"])
    assert conn.whoami_s() == f"dn:{alice['dn']}"
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        slapd.connect(alice["dn"], "not-her-password")
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        slapd.connect(alice["dn"], slapd.users["bob"]["password"])


def test_seeded_group_memberships_are_visible(slapd):
    conn = slapd.connect(slapd.bind_dn, slapd.bind_password)
    assert _groups_of(conn, slapd, "alice") == {"records-admins"}
    assert _groups_of(conn, slapd, "bob") == {"records-staff"}
    assert _groups_of(conn, slapd, "carol") == set()
    assert slapd.group_dn("records-admins") == f"cn=records-admins,{slapd.groups_dn}"


def test_add_user_groups_and_passwords(ldap_directory):
    server = ldap_directory
    dn = server.add_user(
        "dave", password="dave-1", mail="dave@example.org", cn="Dave Dev", groups=["records-staff"]
    )
    assert server.users["dave"] == {
        "password": "dave-1",
        "mail": "dave@example.org",
        "cn": "Dave Dev",
        "dn": dn,
    }
    server.connect(dn, "dave-1")
    service = server.connect(server.bind_dn, server.bind_password)
    assert _groups_of(service, server, "dave") == {"records-staff"}

    server.set_password("dave", "dave-2")
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        server.connect(dn, "dave-1")
    server.connect(dn, "dave-2")

    server.create_group("auditors")
    assert server.group_members("auditors") == []
    server.add_to_group("dave", "auditors")
    server.add_to_group("alice", "records-staff")
    server.remove_from_group("dave", "records-staff")
    assert _groups_of(service, server, "dave") == {"auditors"}
    assert _groups_of(service, server, "alice") == {"records-admins", "records-staff"}
    server.remove_from_group("dave", "auditors")
    assert server.group_members("auditors") == []

    server.delete_user("dave")
    assert _search_uid(service, server, "dave") == []
    assert "dave" not in server.users


def test_reset_restores_seeded_state(slapd):
    slapd.add_user("erin", password="e", mail="erin@example.org", cn="Erin E")
    slapd.create_group("temp", ["erin", "carol"])
    slapd.set_password("alice", "changed")
    slapd.remove_from_group("alice", "records-admins")
    slapd.add_to_group("carol", "records-admins")

    slapd.reset()

    _assert_seeded(slapd)


def _assert_seeded(server: SlapdServer) -> None:
    service = server.connect(server.bind_dn, server.bind_password)
    people = service.search_s(server.people_dn, ldap.SCOPE_ONELEVEL, "(objectClass=*)", ["uid"])
    assert sorted(attrs["uid"][0].decode() for _dn, attrs in people) == sorted(SEED_USERS)
    groups = service.search_s(server.groups_dn, ldap.SCOPE_ONELEVEL, "(objectClass=*)", ["cn"])
    assert sorted(attrs["cn"][0].decode() for _dn, attrs in groups) == sorted(SEED_GROUPS)
    for uid, (password, mail, _cn, member_of) in SEED_USERS.items():
        assert server.users[uid]["password"] == password
        assert server.users[uid]["mail"] == mail
        server.connect(server.user_dn(uid), password)
        assert _groups_of(service, server, uid) == set(member_of)


def test_ldap_directory_fixture_cleans_up_even_after_a_failing_test(slapd):
    # What the ldap_directory fixture does around each test (seeded_afterwards), run within
    # this one test, so it needs no other test and no order: change the directory, see the
    # changes took, let the block fail as a test would, and find the seeded state again.
    with pytest.raises(AssertionError, match="the test failed"), seeded_afterwards(slapd) as d:
        d.add_user("frank", password="f", mail="frank@example.org", cn="Frank F")
        d.add_to_group("carol", "records-admins")
        d.set_password("bob", "changed")
        service = d.connect(d.bind_dn, d.bind_password)
        assert [dn for dn, _attrs in _search_uid(service, d, "frank")] == [d.user_dn("frank")]
        assert _groups_of(service, d, "carol") == {"records-admins"}
        with pytest.raises(ldap.INVALID_CREDENTIALS):
            d.connect(d.user_dn("bob"), SEED_USERS["bob"][0])
        raise AssertionError("the test failed")
    _assert_seeded(slapd)
    service = slapd.connect(slapd.bind_dn, slapd.bind_password)
    assert _search_uid(service, slapd, "frank") == []


# ---- OpenID Connect ---------------------------------------------------------------------
REDIRECT_URI = "http://alpha.localhost/cb/"


@pytest.fixture(scope="module")
def oidc() -> OidcProvider:
    reason = oidc_provider_unavailable_reason()
    if reason:
        service_unavailable(reason)
    accounts = {
        "alice": {
            "email": "alice@example.org",
            "name": "Alice Admin",
            "tid": "tenant-alpha",
            "groups": ["records-admins"],
        },
        "bob": {"email": "bob@example.org", "name": "Bob Staff"},
    }
    with start_oidc_provider(redirect_uris=[REDIRECT_URI], accounts=accounts) as provider:
        yield provider


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorization_url(provider: OidcProvider, *, challenge: str | None, **extra) -> str:
    params = {
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= extra
    discovered = provider.metadata()["authorization_endpoint"]
    return f"{discovered}?{urlencode(params)}"


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _login(provider: OidcProvider, account: str = "alice") -> tuple[dict, str, dict]:
    """A full front-channel login; returns (request params, code_verifier, callback params)."""
    verifier, challenge = _pkce_pair()
    url = _authorization_url(provider, challenge=challenge)
    redirect = provider.authorize(url, account=account)
    assert redirect.startswith(REDIRECT_URI + "?")
    return _query(url), verifier, _query(redirect)


def _verify_id_token(provider: OidcProvider, id_token: str, *, nonce: str) -> dict:
    metadata = provider.metadata()
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    [jwk] = [key for key in jwks["keys"] if key["kid"] == header["kid"]]
    assert "d" not in jwk  # only the public half is published
    claims = jwt.decode(
        id_token,
        key=jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=metadata["issuer"],
    )
    assert claims["nonce"] == nonce
    return claims


def test_oidc_discovery(oidc):
    metadata = oidc.metadata()
    assert oidc.issuer.startswith("http://127.0.0.1:")
    assert metadata["issuer"] == oidc.issuer
    assert oidc.discovery_url == f"{oidc.issuer}/.well-known/openid-configuration"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert metadata["token_endpoint"] == oidc.token_endpoint
    assert metadata["userinfo_endpoint"] == oidc.userinfo_endpoint


def test_oidc_code_flow_with_pkce_and_client_secret_post(oidc):
    request, verifier, callback = _login(oidc, "alice")
    assert callback["state"] == request["state"]
    assert callback["iss"] == oidc.issuer  # RFC 9207 issuer parameter
    response = requests.post(
        oidc.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": oidc.client_id,
            "client_secret": oidc.client_secret,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    claims = _verify_id_token(oidc, tokens["id_token"], nonce=request["nonce"])
    assert claims["iss"] == oidc.issuer
    assert claims["aud"] == oidc.client_id
    assert claims["sub"] == "alice"
    assert claims["email"] == "alice@example.org"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice Admin"
    assert claims["tid"] == "tenant-alpha"
    assert claims["groups"] == ["records-admins"]

    userinfo = requests.get(
        oidc.userinfo_endpoint,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert userinfo["sub"] == "alice"
    assert userinfo["email"] == "alice@example.org"
    assert userinfo["tid"] == "tenant-alpha"


def test_oidc_code_flow_with_client_secret_basic(oidc):
    request, verifier, callback = _login(oidc, "bob")
    response = requests.post(
        oidc.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(oidc.client_id, oidc.client_secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    claims = _verify_id_token(oidc, response.json()["id_token"], nonce=request["nonce"])
    assert claims["sub"] == "bob"
    assert claims["email"] == "bob@example.org"
    assert "tid" not in claims


def test_oidc_accepts_the_portals_request_shape(oidc):
    # What accounts/sso/config.py makes allauth send: prompt=select_account, no nonce.
    verifier, challenge = _pkce_pair()
    url = _authorization_url(oidc, challenge=challenge, prompt="select_account")
    url = url.replace("&nonce=", "&ignored=")
    callback = _query(oidc.authorize(url, account="bob"))
    assert "code" in callback, callback
    response = requests.post(
        oidc.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": oidc.client_id,
            "client_secret": oidc.client_secret,
        },
        timeout=10,
    )
    claims = jwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert claims["sub"] == "bob"
    assert "nonce" not in claims


def test_oidc_token_exchange_needs_the_right_verifier_and_secret(oidc):
    _request, verifier, callback = _login(oidc)
    base = {"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}
    wrong_secret = requests.post(
        oidc.token_endpoint,
        data={**base, "code": callback["code"], "code_verifier": verifier},
        auth=(oidc.client_id, "wrong"),
        timeout=10,
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"

    _request, _verifier, callback = _login(oidc)
    wrong_verifier = requests.post(
        oidc.token_endpoint,
        data={**base, "code": callback["code"], "code_verifier": _pkce_pair()[0]},
        auth=(oidc.client_id, oidc.client_secret),
        timeout=10,
    )
    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"


def test_oidc_refuses_authorization_without_pkce(oidc):
    url = _authorization_url(oidc, challenge=None)
    redirect = oidc.authorize(url)
    assert redirect.startswith(REDIRECT_URI + "?")
    callback = _query(redirect)
    assert "code" not in callback
    assert callback["error"] == "invalid_request"
    assert "PKCE" in callback["error_description"]
    assert callback["state"] == _query(url)["state"]


def test_oidc_refuses_plain_pkce(oidc):
    verifier, _challenge = _pkce_pair()
    url = _authorization_url(oidc, challenge=verifier, code_challenge_method="plain")
    callback = _query(oidc.authorize(url))
    assert "code" not in callback
    assert callback["error"] == "invalid_request"


def test_oidc_unregistered_redirect_uri_is_an_error_page(oidc):
    _verifier, challenge = _pkce_pair()
    url = _authorization_url(oidc, challenge=challenge, redirect_uri="http://evil.localhost/cb/")
    with pytest.raises(OidcAuthorizeError, match="redirect_uri"):
        oidc.authorize(url)


def test_oidc_unknown_account_cannot_log_in(oidc):
    _verifier, challenge = _pkce_pair()
    with pytest.raises(OidcAuthorizeError, match="unknown account"):
        oidc.authorize(_authorization_url(oidc, challenge=challenge), account="nobody")


def test_oidc_provider_factory_with_custom_accounts(oidc_provider_factory):
    provider = oidc_provider_factory(
        redirect_uris=[REDIRECT_URI],
        accounts={"zed": {"sub": "00u-zed-42", "email": "zed@example.org", "hd": "example.org"}},
        client_id="other-client",
        client_secret="s3cret",
    )
    assert (provider.client_id, provider.client_secret) == ("other-client", "s3cret")
    request, verifier, callback = _login(provider, "zed")
    response = requests.post(
        provider.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=("other-client", "s3cret"),
        timeout=10,
    )
    claims = _verify_id_token(provider, response.json()["id_token"], nonce=request["nonce"])
    assert claims["sub"] == "00u-zed-42"
    assert claims["hd"] == "example.org"
    assert claims["email_verified"] is True


# ---- SAML 2.0 ---------------------------------------------------------------------------
SP_ENTITY_ID = "https://alpha.portal.test/accounts/saml/alpha/metadata/"
ACS_URL = "https://alpha.portal.test/accounts/saml/alpha/acs/"
REQUEST_ID = "ONELOGIN_0123456789abcdef"
ATTRIBUTES = {
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": ["alice@example.org"],
    "groups": ["records-admins", "everyone"],
}


def _saml_settings(idp: TestSamlIdP, **security):
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": SP_ENTITY_ID,
                "assertionConsumerService": {
                    "url": ACS_URL,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
            },
            "idp": idp.python3_saml_idp_settings(),
            "security": {"wantAssertionsSigned": True, **security},
        },
        sp_validation_only=True,
    )


def _check(idp: TestSamlIdP, saml_response: str, *, request_id=REQUEST_ID, **security):
    """(is_valid, error, parsed response) as python3-saml sees a POST to the ACS URL."""
    from onelogin.saml2.response import OneLogin_Saml2_Response

    acs = urlsplit(ACS_URL)
    request_data = {
        "https": "on",
        "http_host": acs.netloc,
        "script_name": acs.path,
        "get_data": {},
        "post_data": {"SAMLResponse": saml_response},
    }
    parsed = OneLogin_Saml2_Response(_saml_settings(idp, **security), saml_response)
    valid = parsed.is_valid(request_data, request_id=request_id)
    return valid, parsed.get_error(), parsed


def _response(idp: TestSamlIdP, **overrides) -> str:
    arguments = {
        "acs_url": ACS_URL,
        "audience": SP_ENTITY_ID,
        "in_response_to": REQUEST_ID,
        "name_id": "alice-7f3a",
        "attributes": ATTRIBUTES,
    }
    return idp.response(**arguments | overrides)


def test_saml_certificate_forms(saml_idp):
    assert saml_idp.cert_pem.startswith("-----BEGIN CERTIFICATE-----")
    body = "".join(saml_idp.cert_pem.strip().splitlines()[1:-1])
    assert saml_idp.cert_base64 == body
    assert saml_idp.certificate.public_key().key_size == 2048


def test_saml_good_signed_response_is_valid(saml_idp):
    b64 = _response(saml_idp, session_index="_session-1")
    valid, error, parsed = _check(saml_idp, b64)
    assert valid, error
    assert parsed.get_nameid() == "alice-7f3a"
    assert parsed.get_nameid_format() == NAMEID_PERSISTENT
    assert parsed.get_attributes() == ATTRIBUTES
    assert parsed.get_session_index() == "_session-1"
    assert parsed.get_issuers() == [saml_idp.entity_id]
    assert parsed.get_audiences() == [SP_ENTITY_ID]
    xml = decode(b64)
    assert f'Destination="{ACS_URL}"' in xml
    assert "rsa-sha256" in xml
    assert "PasswordProtectedTransport" in xml


def test_saml_response_and_assertion_both_signed_is_valid(saml_idp):
    valid, error, _parsed = _check(saml_idp, _response(saml_idp, sign_response=True))
    assert valid, error
    valid, error, _parsed = _check(
        saml_idp, _response(saml_idp, sign_response=True), wantMessagesSigned=True
    )
    assert valid, error


def test_saml_tampered_name_id_is_invalid(saml_idp):
    b64 = tamper(_response(saml_idp), ">alice-7f3a<", ">mallory-0001<")
    valid, error, _parsed = _check(saml_idp, b64)
    assert not valid
    assert "Signature validation failed" in error
    with pytest.raises(ValueError, match="does not occur"):
        tamper(b64, "no-such-text", "x")


def test_saml_unsigned_response_is_invalid(saml_idp):
    valid, error, _parsed = _check(saml_idp, _response(saml_idp, sign_assertion=False))
    assert not valid
    assert "The Assertion of the Response is not signed" in error


def test_saml_only_the_message_signed_is_invalid_when_assertions_must_be(saml_idp):
    b64 = _response(saml_idp, sign_assertion=False, sign_response=True)
    valid, error, _parsed = _check(saml_idp, b64)
    assert not valid
    assert "The Assertion of the Response is not signed" in error


def test_saml_response_signed_by_another_key_is_invalid(saml_idp):
    b64 = _response(saml_idp, signing_idp=TestSamlIdP())
    valid, error, _parsed = _check(saml_idp, b64)
    assert not valid
    assert "Signature validation failed" in error


def test_saml_wrong_audience_is_invalid(saml_idp):
    b64 = _response(saml_idp, audience="https://other-sp.example.test/")
    valid, error, _parsed = _check(saml_idp, b64)
    assert not valid
    assert "is not a valid audience" in error


def test_saml_expired_response_is_invalid(saml_idp):
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    b64 = _response(
        saml_idp,
        issue_instant=two_hours_ago,
        not_before=two_hours_ago,
        not_on_or_after=two_hours_ago + dt.timedelta(minutes=5),
    )
    valid, error, _parsed = _check(saml_idp, b64)
    assert not valid
    assert "expired" in error


def test_saml_wrong_in_response_to_and_issuer_are_invalid(saml_idp):
    valid, error, _parsed = _check(saml_idp, _response(saml_idp), request_id="ONELOGIN_other")
    assert not valid
    assert "InResponseTo" in error
    valid, error, _parsed = _check(saml_idp, _response(saml_idp, issuer="https://evil.test/"))
    assert not valid
    assert "Invalid issuer" in error


def test_saml_unsolicited_response_carries_no_in_response_to(saml_idp):
    b64 = _response(saml_idp, in_response_to=None)
    valid, error, _parsed = _check(saml_idp, b64, request_id=None)
    assert valid, error
    assert "InResponseTo" not in decode(b64)


def test_saml_some_signature_is_always_required(saml_idp):
    # python3-saml refuses a response with no signature at all even when neither
    # wantAssertionsSigned nor wantMessagesSigned is set (allauth's defaults); a signature
    # on the message alone is then enough.
    unsigned = _response(saml_idp, sign_assertion=False)
    valid, error, _parsed = _check(saml_idp, unsigned, wantAssertionsSigned=False)
    assert not valid
    assert "No Signature found" in error
    message_signed = _response(saml_idp, sign_assertion=False, sign_response=True)
    valid, error, _parsed = _check(saml_idp, message_signed, wantAssertionsSigned=False)
    assert valid, error


def test_saml_metadata_and_authn_request_parsing(saml_idp):
    from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    idp_settings = OneLogin_Saml2_IdPMetadataParser.parse(saml_idp.metadata_xml())["idp"]
    assert idp_settings["entityId"] == saml_idp.entity_id
    assert idp_settings["singleSignOnService"]["url"] == saml_idp.sso_url
    assert idp_settings["x509cert"] == saml_idp.cert_base64

    request = OneLogin_Saml2_Authn_Request(_saml_settings(saml_idp))
    query = urlencode({"SAMLRequest": request.get_request(), "RelayState": "/next/"})
    redirect = f"{saml_idp.sso_url}?{query}"
    parsed = parse_authn_request(redirect)
    assert parsed.id == request.get_id()
    assert parsed.issuer == SP_ENTITY_ID
    assert parsed.acs_url == ACS_URL
    assert parsed.relay_state == "/next/"
    posted = parse_authn_request(request.get_request(deflate=False))
    assert posted.id == request.get_id()
