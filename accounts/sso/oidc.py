"""OpenID Connect on allauth's generic provider, tightened for the portal.

allauth brings the authorization-code flow, ``state`` and PKCE (S256). Added here:
- a ``nonce`` per sign-in, stored in allauth's state and compared with the ID token's;
- the ID token's signature is always checked against the provider's keys (allauth skips it
  when the token came straight from the token endpoint), with an allow-list of algorithms;
- only the signed ID token is trusted for identity (no userinfo call);
- the endpoints the issuer's discovery document names (authorization, token, keys) must
  pass the same https and internal-address rules as the issuer an admin types
  (accounts.sso.endpoints), or the sign-in stops before the portal calls them;
- the tenant checks (Entra ``tid``, Google ``hd`` and ``email_verified``) in ``claims_from``;
  for Microsoft, the address is the UPN (``preferred_username``) that the agency's own
  tenant assigns, and an ``email`` claim counts as verified only with ``xms_edov``.
"""

from __future__ import annotations

import hmac
import secrets

import jwt
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.urls import reverse

from accounts.models import IdentityProvider, ProviderKind
from accounts.sso import endpoints
from accounts.sso.claims import Claims, SsoRefused

SIGNING_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"}
# The discovery document's endpoints the portal's server (token, keys) or the person's
# browser (authorization) is sent to.
CHECKED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class UnsafeDiscoveredEndpoint(Exception):
    """The issuer's discovery document names an endpoint the portal will not use."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name}: {problem}")
        self.audit_reason = f"discovery document refused: {name} ({problem})"


def check_discovered_endpoints(openid_config: dict) -> None:
    for name in CHECKED_ENDPOINTS:
        try:
            endpoints.https_url(str(openid_config.get(name) or ""))
        except endpoints.UnsafeEndpoint as error:
            raise UnsafeDiscoveredEndpoint(name, str(error)) from None


class IdTokenRefused(OAuth2Error):
    """The ID token is not one the provider signed for this client. An OAuth2Error, so allauth
    answers with its error page; the audit reason names this class ("unknown:
    IdTokenRefused"), which tells a forged or stale token apart from a failed code exchange
    (a plain OAuth2Error)."""


class PortalOIDCAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self) -> dict:
        config = super().openid_config
        if not getattr(self, "_endpoints_checked", False):
            check_discovered_endpoints(config)
            self._endpoints_checked = True
        return config

    def _decode_id_token(self, app, id_token: str) -> dict:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise IdTokenRefused("Malformed id_token") from error
        algorithm = header.get("alg")
        if algorithm not in SIGNING_ALGORITHMS:
            raise IdTokenRefused(f"id_token signed with a refused algorithm: {algorithm!r}")
        if not header.get("kid"):
            # allauth looks the key up by kid only (a KeyError without one).
            raise IdTokenRefused("id_token names no signing key (kid)")
        try:
            return jwtkit.verify_and_decode(
                credential=id_token,
                keys_url=self.openid_config["jwks_uri"],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
                verify_signature=True,
            )
        except OAuth2Error as error:  # bad signature, unknown key, issuer, audience, expiry
            raise IdTokenRefused(str(error)) from error

    def get_callback_url(self, request, app) -> str:
        return request.build_absolute_uri(
            reverse("accounts:oidc_callback", kwargs={"provider_id": self.provider_id})
        )


class PortalOIDCProvider(OpenIDConnectProvider):
    oauth2_adapter_class = PortalOIDCAdapter

    def get_login_url(self, request, **kwargs) -> str:
        return reverse("accounts:oidc_login", kwargs={"provider_id": self.app.provider_id})

    def get_callback_url(self) -> str:
        return reverse("accounts:oidc_callback", kwargs={"provider_id": self.app.provider_id})

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        # Only the app's own parameters: nothing from the query string reaches the provider.
        auth_params = dict(self.get_auth_params())
        nonce = secrets.token_urlsafe(32)
        auth_params["nonce"] = nonce
        return super().redirect(
            request,
            process,
            next_url,
            data,
            auth_params=auth_params,
            scope=self.get_scope(),
            nonce=nonce,
        )


def _truthy(value) -> bool:
    return value in (True, "true", "True", "1", 1)


def _microsoft_address(token: dict) -> tuple[str, bool]:
    """(address, verified) from an Entra ID token. ``preferred_username`` is the UPN, which
    the agency's own tenant (``tid`` was checked) assigns: verified. The ``email`` claim is a
    user-editable mail attribute, verified only when Entra says so (``xms_edov``)."""
    upn = str(token.get("preferred_username") or "")
    if "@" in upn:
        return upn, True
    email = str(token.get("email") or "")
    return email, bool(email) and _truthy(token.get("xms_edov"))


def claims_from(provider: IdentityProvider, sociallogin) -> Claims:
    """The person as the verified ID token describes them, after the portal's own checks.
    Raises SsoRefused when the token is not for this sign-in or this agency."""
    token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    state = sociallogin.state or {}
    expected_nonce = state.get("nonce") or ""
    if not expected_nonce or not hmac.compare_digest(
        str(token.get("nonce", "")), str(expected_nonce)
    ):
        raise SsoRefused("nonce mismatch", "That sign-in response was not for this sign-in.")
    settings = provider.settings
    # GUIDs compare without regard to case (Entra sends tid in lower case; an admin may paste
    # the tenant id in upper case, which the form accepts).
    tid = str(token.get("tid") or "").lower()
    if provider.kind == ProviderKind.MICROSOFT and (
        not tid or tid != str(settings.get("tenant_id") or "").lower()
    ):
        raise SsoRefused(
            "another Entra tenant", "That Microsoft account belongs to another organisation."
        )
    email_verified = token.get("email_verified") in (True, "true", "True")
    if provider.kind == ProviderKind.GOOGLE:
        domain = (settings.get("hosted_domain") or "").lower()
        if not domain or str(token.get("hd", "")).lower() != domain:
            raise SsoRefused(
                "another Google domain",
                "That Google account is not part of the agency's Google Workspace.",
            )
        if not email_verified:
            raise SsoRefused("email not verified", "Google has not verified that address.")
    email = str(token.get("email") or "")
    if provider.kind == ProviderKind.MICROSOFT:
        email, email_verified = _microsoft_address(token)
    groups_claim = settings.get("groups_claim") or "groups"
    groups = token.get(groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    return Claims(
        subject=str(token.get("sub") or ""),
        email=email if "@" in email else "",
        email_verified=email_verified,
        name=str(token.get("name") or ""),
        groups=[str(g) for g in groups],
    )
