"""OpenID Connect on allauth's generic provider, tightened for the portal.

allauth brings the authorization-code flow, ``state`` and PKCE (S256). Added here:
- a ``nonce`` per sign-in, stored in allauth's state and compared with the ID token's;
- the ID token's signature is always checked against the provider's keys (allauth skips it
  when the token came straight from the token endpoint), with an allow-list of algorithms;
- only the signed ID token is trusted for identity (no userinfo call);
- the tenant checks (Entra ``tid``, Google ``hd`` and ``email_verified``) in ``claims_from``.
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
from accounts.sso.linking import Claims, SsoRefused

SIGNING_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"}


class PortalOIDCAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app, id_token: str) -> dict:
        try:
            algorithm = jwt.get_unverified_header(id_token).get("alg")
        except jwt.PyJWTError as error:
            raise OAuth2Error("Malformed id_token") from error
        if algorithm not in SIGNING_ALGORITHMS:
            raise OAuth2Error(f"id_token signed with a refused algorithm: {algorithm!r}")
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )

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
        # Entra sends verified sign-in names in preferred_username; email may be absent.
        email = email or str(token.get("preferred_username") or "")
        email_verified = True
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
