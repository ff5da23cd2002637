"""Forged OpenID Connect ID tokens, end to end against the real provider (tests/idp/oidc).

allauth does not check the signature of an ID token that came from the token endpoint;
accounts/sso/oidc.py does (against the provider's published keys, with an algorithm
allow-list). Here Mallory, who has her own account at the agency's provider, signs in as
herself; the provider's answer to the portal's token request (real HTTP, real code, PKCE
and nonce) then reaches the portal with its ID token replaced by one that says she is
"alice", the subject linked to the agency's administrator. Every forged token carries the
genuine claims of that sign-in (issuer, audience, nonce, expiry) with only ``sub`` changed,
so its signature is the one thing wrong with it: without the check, each of these tests signs
Mallory in as the administrator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt
import pytest
import requests
from allauth.socialaccount.providers.oauth2.client import OAuth2Client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.urls import reverse

from accounts.models import ExternalIdentity, IdentityProvider, ProviderKind, Role, User
from accounts.sso import config
from accounts.tenancy import agency_context
from tests.accounts import sso_helpers as h
from tests.idp.fixtures import service_unavailable
from tests.idp.oidc_provider import (
    OidcProvider,
    oidc_provider_unavailable_reason,
    start_oidc_provider,
)

pytestmark = pytest.mark.django_db

CLIENT_ID = "portal-test"
CLIENT_SECRET = "oidc-client-secret-for-id-token-tests"
OPTION_ID = uuid.UUID("0b5e7a0c-2f1d-4a8e-9c3b-7d6f1e2a4c58")
ACCOUNTS = {
    "alice": {"email": "alice@example.org", "name": "Alice Admin"},
    "mallory": {"email": "mallory@example.org", "name": "Mallory"},
}
VICTIM_SUBJECT = "alice"
REFUSED_REASON = "unknown: IdTokenRefused"  # allauth's error code, then the exception's name

Forge = Callable[[str, "ProviderKeys"], str]


def agency_a_host() -> str:
    return f"alpha.{django_settings.PORTAL_BASE_DOMAIN}"  # the tenant fixture's host


@pytest.fixture(scope="module")
def provider():
    """One running provider for the module; fails instead of skipping when
    REQUIRE_SERVICES=1 (CI) and node or its packages are missing."""
    reason = oidc_provider_unavailable_reason()
    if reason:
        service_unavailable(f"the OpenID Connect provider cannot run: {reason}")
    callback = f"http://{agency_a_host()}" + reverse(
        "accounts:oidc_callback", kwargs={"provider_id": str(OPTION_ID)}
    )
    with start_oidc_provider(
        redirect_uris=[callback],
        accounts=ACCOUNTS,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    ) as running:
        yield running


@dataclass
class ProviderKeys:
    """The provider's published signing key, as an attacker can fetch it."""

    jwk: dict

    @property
    def kid(self) -> str:
        return self.jwk["kid"]

    def public_pem(self) -> bytes:
        key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(self.jwk))
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture
def option(tenant, provider: OidcProvider) -> IdentityProvider:
    """Agency A's OIDC option at the module's provider, with the agency's administrator
    linked to the subject "alice" (no provisioning: nobody new is created either way)."""
    assert tenant.host == agency_a_host()
    with agency_context(tenant.agency):
        row = IdentityProvider(
            agency=tenant.agency,
            public_id=OPTION_ID,
            kind=ProviderKind.OIDC,
            name="City Okta",
            settings={"issuer": provider.issuer, "client_id": CLIENT_ID},
            provision_role="",
        )
        config.set_secret(row, CLIENT_SECRET)
        row.save()
        ExternalIdentity.objects.create(
            agency=tenant.agency, provider=row, subject=VICTIM_SUBJECT, user=tenant.admin
        )
    return row


@pytest.fixture
def keys(provider: OidcProvider) -> ProviderKeys:
    (jwk,) = requests.get(provider.jwks_uri, timeout=10).json()["keys"]
    return ProviderKeys(jwk)


@pytest.fixture
def substitute_id_token(monkeypatch, keys):
    """``substitute_id_token(forge)``: the portal's token request still goes to the provider;
    the ID token in the provider's answer is replaced by ``forge(genuine, keys)`` before the
    portal reads it. Returns the list of genuine tokens seen (one per token request)."""

    def install(forge: Forge) -> list[str]:
        seen: list[str] = []
        fetch = OAuth2Client.get_access_token

        def get_access_token(client, *args, **kwargs):
            answer = fetch(client, *args, **kwargs)
            seen.append(answer["id_token"])
            return {**answer, "id_token": forge(answer["id_token"], keys)}

        monkeypatch.setattr(OAuth2Client, "get_access_token", get_access_token)
        return seen

    return install


def sign_in_as_mallory(client, provider: OidcProvider, row: IdentityProvider):
    started = client.post(config.sign_in_path(row), {"next": "/"})
    assert started.status_code == 302, h.explain(started)
    back = provider.authorize(started["Location"], account="mallory")
    assert back.startswith(f"http://{agency_a_host()}/"), back
    return client.get(back.split(agency_a_host(), 1)[1])


# --- Building tokens ----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_part(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def impersonating(genuine: str) -> dict:
    """The genuine token's claims (issuer, audience, nonce, expiry: all right for this sign-in)
    with the subject of the administrator's linked identity."""
    claims = jwt.decode(genuine, options={"verify_signature": False})
    assert claims["sub"] == "mallory"
    return {**claims, "sub": VICTIM_SUBJECT}


def unsigned(genuine: str, keys: ProviderKeys) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": keys.kid}
    return f"{encode_part(header)}.{encode_part(impersonating(genuine))}."


def hmac_signed(secret: bytes) -> Forge:
    def forge(genuine: str, keys: ProviderKeys) -> str:
        header = {"alg": "HS256", "typ": "JWT", "kid": keys.kid}
        signing_input = f"{encode_part(header)}.{encode_part(impersonating(genuine))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    return forge


def hmac_signed_with_the_public_key(genuine: str, keys: ProviderKeys) -> str:
    # Algorithm confusion: HS256 keyed with the provider's *public* key, which anyone has.
    return hmac_signed(keys.public_pem())(genuine, keys)


PROVIDERS_KID = object()  # stands for the kid the provider publishes


def signed_with_another_rsa_key(kid) -> Forge:
    """RS256 with a key the attacker made, under the provider's kid, another kid, or none."""

    def forge(genuine: str, keys: ProviderKeys) -> str:
        attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        headers = {} if kid is None else {"kid": keys.kid if kid is PROVIDERS_KID else kid}
        return jwt.encode(impersonating(genuine), attacker, algorithm="RS256", headers=headers)

    return forge


def altered_after_signing(genuine: str, keys: ProviderKeys) -> str:
    header, _payload, signature = genuine.split(".")
    return f"{header}.{encode_part(impersonating(genuine))}.{signature}"


FORGERIES = {
    "alg none, unsigned": unsigned,
    "HS256, guessable secret": hmac_signed(b"secret"),
    "HS256, the client secret": hmac_signed(CLIENT_SECRET.encode()),
    "HS256, the provider's public key": hmac_signed_with_the_public_key,
    "RS256, another key under the provider's kid": signed_with_another_rsa_key(PROVIDERS_KID),
    "RS256, another key under its own kid": signed_with_another_rsa_key("attacker-key"),
    "RS256, another key and no kid": signed_with_another_rsa_key(None),
    "RS256, the provider's signature over another payload": altered_after_signing,
}


# --- The tests ----------------------------------------------------------------------------------


def test_the_genuine_token_through_the_same_interception_signs_mallory_in_as_herself(
    tenant, provider, option, substitute_id_token
):
    # The harness itself changes nothing: with the provider's own token, Mallory is Mallory.
    h.update_provider(option, provision_role=Role.STAFF)
    seen = substitute_id_token(lambda genuine, keys: genuine)
    client = h.anonymous_client(tenant.host)

    response = sign_in_as_mallory(client, provider, option)

    assert response.status_code == 302, h.explain(response)
    assert len(seen) == 1
    mallory = User.objects.get(email="mallory@example.org")
    assert h.signed_in_user_id(client) == mallory.pk != tenant.admin.pk
    assert h.failure_reasons(tenant.agency) == []


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_id_token_from_the_token_endpoint_is_refused_and_audited(
    tenant, provider, option, substitute_id_token, forge
):
    seen = substitute_id_token(forge)
    client = h.anonymous_client(tenant.host)

    response = sign_in_as_mallory(client, provider, option)

    assert len(seen) == 1  # the token request was made and its answer substituted
    assert response.status_code == 400, h.explain(response)
    assert h.GENERIC_SSO_ERROR in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert h.failure_reasons(tenant.agency) == [REFUSED_REASON]
    assert not {"auth.login", "sso.login", "sso.linked"} & set(h.actions(tenant.agency))
    assert [i.subject for i in h.identities(tenant.agency)] == [VICTIM_SUBJECT]
    assert not User.objects.filter(email="mallory@example.org").exists()
