"""Single sign-on endpoints. allauth's protocol views do the work; these wrappers bind them to
the agency's host, start flows only by POST (a link cannot start a sign-in), and make sure
anything a provider or an attacker sends back ends in the portal's own error page with an
audit event, never a server error.
"""

from __future__ import annotations

import logging
from functools import wraps

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.saml import views as allauth_saml
from django.db import transaction
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.middleware import not_found
from accounts.services import identities
from accounts.signin import flow
from accounts.sso import adapters, config, oidc, saml

logger = logging.getLogger(__name__)


def _agency_provider(request, sub_id: str):
    if getattr(request, "agency", None) is None:
        raise Http404
    row = adapters.provider_row(request, sub_id)
    if row is None:
        raise Http404
    return row


def _contained(view):
    """Run an allauth view in a savepoint. Provider responses are attacker-controlled input:
    an exception allauth does not turn into an error page (a malformed response, a provider
    that is down) rolls back to the savepoint, is recorded, and gets the error page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        sub_id = kwargs.get("provider_id") or kwargs.get("organization_slug") or ""
        row = _agency_provider(request, sub_id)
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except Http404:
            raise
        except Exception as error:  # noqa: BLE001 (any failure here is a refused sign-in)
            logger.warning("Single sign-on through %s failed: %s", row.pk, type(error).__name__)
            reason = getattr(error, "audit_reason", None) or f"error: {type(error).__name__}"
            identities.record_failure(provider=row, reason=reason[:200], http_request=request)
            return adapters.error_page(
                request,
                "We couldn't sign you in with that service. Please try again; if it keeps "
                "happening, tell your agency's administrator.",
                status=400,
            )

    return wrapped


def _start(request, provider):
    next_url = flow.safe_next(request, request.POST.get("next"))
    return provider.redirect(request, "login", next_url=next_url)


def start(request, row, *, next_url: str):
    """Begin a sign-in with one of the agency's OIDC or SAML options (linking one from the
    account page uses it)."""
    adapter = adapters.PortalSocialAccountAdapter(request)
    sub_id = str(row.public_id)
    if config.protocol(row) == "oidc":
        provider = adapter.get_provider(request, provider=sub_id)
        kwargs = {"provider_id": sub_id}
    else:
        provider = adapter.get_provider(request, provider="saml", client_id=sub_id)
        kwargs = {"organization_slug": sub_id}
    return _contained(lambda req, **kw: provider.redirect(req, "login", next_url=next_url))(
        request, **kwargs
    )


@require_POST
def oidc_login(request, provider_id: str):
    _agency_provider(request, provider_id)
    try:
        provider = adapters.PortalSocialAccountAdapter(request).get_provider(
            request, provider=provider_id
        )
    except SocialApp.DoesNotExist:
        raise Http404 from None
    if provider.app.provider != "openid_connect":
        raise Http404  # a SAML option's id: its flow starts at saml_login
    return _contained(lambda req, **kw: _start(req, provider))(request, provider_id=provider_id)


@require_http_methods(["GET", "HEAD"])
@_contained
def oidc_callback(request, provider_id: str):
    view = OAuth2CallbackView.adapter_view(oidc.PortalOIDCAdapter(request, provider_id))
    return view(request)


@require_POST
def saml_login(request, organization_slug: str):
    _agency_provider(request, organization_slug)
    try:
        provider = adapters.PortalSocialAccountAdapter(request).get_provider(
            request, provider="saml", client_id=organization_slug
        )
    except SocialApp.DoesNotExist:
        raise Http404 from None  # an OIDC option's id
    return _contained(lambda req, **kw: _start(req, provider))(
        request, organization_slug=organization_slug
    )


# Why csrf_exempt: the IdP posts here from its own site, so no CSRF token can exist. The
# response's signature (against the certificate the admin configured) and its InResponseTo,
# matched to the request this session started, do that job, and each response is accepted
# once. Tested in tests/accounts/test_sso_saml.py: test_unsolicited_response_from_the_idp_*,
# test_response_the_portal_cannot_trust_is_refused, test_response_changed_after_signing_*,
# test_response_posted_again_is_refused.
# nosemgrep: portal-csrf-exempt -- cross-site post from the IdP; its signature authenticates it
saml_acs = csrf_exempt(require_POST(_contained(allauth_saml.acs)))
saml_finish_acs = require_http_methods(["GET", "HEAD"])(_contained(saml.finish_acs))
saml_metadata = require_http_methods(["GET", "HEAD"])(_contained(allauth_saml.metadata))


def saml_sls(request, organization_slug: str):
    """Single logout from the IdP is not offered: people sign out of the portal themselves."""
    return not_found(request)
