"""django-allauth adapters: allauth runs the protocols, the portal decides who signs in.

- Apps come from the agency's own ``IdentityProvider`` rows (read under the request's
  row-level-security context), never from allauth's global SocialApp table: one agency's
  provider cannot be used on another agency's host.
- ``pre_social_login`` is where every OIDC and SAML sign-in ends: the portal's checks
  (nonce, tenant, assertion replay), then ``identities.resolve`` (by provider and subject),
  then the shared sign-in path (``accounts.signin.flow``). It always answers itself, so
  allauth's own account creation, email matching and SocialAccount rows are never used.
- Every failure allauth detects (bad state, provider error, invalid token or response)
  arrives in ``on_authentication_error``: recorded and answered with the portal's page.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.template.response import TemplateResponse

import audit
from accounts import access, audit_events
from accounts.models import IdentityProvider
from accounts.services import identities
from accounts.signin import flow
from accounts.sso import config, oidc, saml
from accounts.sso.claims import SsoRefused

SSO_BACKEND = "accounts.backends.SingleSignOnBackend"


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False  # residents sign up through accounts.views.signup; staff are invited


def error_page(request, message: str, *, status: int = 403) -> TemplateResponse:
    response = TemplateResponse(request, "accounts/sso_error.html", {"message": message})
    response.status_code = status
    response.render()
    return response


def provider_row(request, sub_id: str) -> IdentityProvider | None:
    return access.enabled_sso_provider(getattr(request, "agency", None), sub_id)


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def list_apps(self, request, provider=None, client_id=None) -> list[SocialApp]:
        agency = getattr(request, "agency", None)
        if agency is None:
            return []
        apps = [config.social_app(row) for row in access.sign_in_buttons(agency)]
        if provider:
            apps = [a for a in apps if provider in (a.provider, a.provider_id)]
        if client_id:
            apps = [a for a in apps if a.client_id == client_id]
        return apps

    def get_provider(self, request, provider, client_id=None):
        app = self.get_app(request, provider=provider, client_id=client_id)
        if app.provider == "openid_connect":
            return oidc.PortalOIDCProvider(request, app=app)
        return saml.PortalSAMLProvider(request, app=app)

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        row = provider_row(request, getattr(provider, "sub_id", "")) if provider else None
        reason = str(error or "error")
        if exception is not None:
            reason += f": {type(exception).__name__}"
        saml_errors = (extra_context or {}).get("saml_errors")
        if saml_errors:
            reason += f" ({', '.join(saml_errors)})"
        detail = (extra_context or {}).get("saml_last_error_reason")
        if detail:
            # python3-saml's own words (signature, audience, time window...): no secrets.
            reason += f": {detail}"
        if row is not None:
            identities.record_failure(provider=row, reason=reason[:200], http_request=request)
        raise ImmediateHttpResponse(
            error_page(
                request,
                "We couldn't sign you in with that service. Please try again; if it keeps "
                "happening, tell your agency's administrator.",
                status=400,
            )
        )

    def pre_social_login(self, request, sociallogin) -> None:
        row = provider_row(request, sociallogin.account.provider)
        if row is None:
            raise ImmediateHttpResponse(error_page(request, "This sign-in option is turned off."))
        try:
            if not sociallogin.state:
                raise SsoRefused(
                    "response without a matching sign-in (replayed or expired)",
                    "That sign-in response has expired or was already used. Please start again.",
                )
            if config.protocol(row) == "oidc":
                claims = oidc.claims_from(row, sociallogin)
            else:
                saml.consume_assertion(row, getattr(sociallogin, "saml_assertion", {}))
                claims = saml.claims_from(row, sociallogin)
        except SsoRefused as refusal:
            identities.record_failure(provider=row, reason=refusal.reason, http_request=request)
            raise ImmediateHttpResponse(error_page(request, refusal.message, status=400)) from None
        try:
            user = identities.resolve(provider=row, claims=claims, http_request=request)
        except SsoRefused as refusal:
            raise ImmediateHttpResponse(error_page(request, refusal.message)) from None

        next_url = sociallogin.state.get("next")
        if request.user.is_authenticated:
            if request.user.pk != user.pk:
                if request.session.pop(identities.SESSION_LINK_INTENT, None):
                    identities.record_failure(
                        provider=row,
                        reason="already linked to another account",
                        http_request=request,
                    )
                    raise ImmediateHttpResponse(
                        error_page(
                            request,
                            f"That {row.name} account is already linked to another account here.",
                        )
                    )
            else:
                # Signing in again as oneself: confirms who they are (re-authentication).
                request.session.pop(identities.SESSION_LINK_INTENT, None)
                flow.mark_reauthenticated(request)
                audit.record(
                    audit_events.REAUTHENTICATED.code,
                    http_request=request,
                    actor=user,
                    details={"method": config.protocol(row)},
                )
                raise ImmediateHttpResponse(flow.redirect_to(request, next_url))
        raise ImmediateHttpResponse(
            flow.begin(
                request,
                user,
                backend=SSO_BACKEND,
                method=config.protocol(row),
                next_url=next_url,
                provider=row,
            )
        )
