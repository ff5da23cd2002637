"""How a first factor becomes a session: the one path every way of signing in takes.

Password, LDAP bind, OpenID Connect and SAML each prove who someone is, then call ``begin``:

1. A user with two-factor set up is not signed in yet: the session holds a *pending*
   sign-in (user, method, five minutes) and the browser goes to the code page. Only a
   correct code (``complete_pending``) signs them in. An OIDC/SAML sign-in skips this when
   the agency trusts its identity provider's own second factor (``sso_counts_as_mfa``).
2. ``finish`` calls Django's ``login`` (new session key: no fixation), stamps the session
   (time, method, second factor), lists it for the user, and sends staff who must have two-
   factor but have not set it up to the setup page before anything else.

A password reset never signs anyone in, so it can never skip step 1.

Two kinds of "recently proved who you are":

- *recent authentication* (``recently_authenticated``): any sign-in or re-confirmation
  within settings.REAUTHENTICATION_MAX_AGE, single sign-on included. Enough for the
  agency's own sensitive pages (roles, sign-in policy and options), which that agency's
  provider may vouch for.
- *account proof* (``has_account_proof``): the person proved control of the portal
  account itself, not only of one agency's directory: the portal password (a sign-in with
  it, or re-authentication), or a TOTP or recovery code. Users are global, so an OIDC, SAML
  or LDAP sign-in proves only what that agency's provider says and never counts. Someone
  who set up two-factor must also have passed it in this session. Needed for the changes
  that reach every agency: two-factor, recovery codes, email, password, signing out
  everywhere else.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts import access, policy
from accounts.models import User
from accounts.services import identities
from accounts.signin import mfa, sessions

PENDING = "_signin_pending"
PENDING_SECONDS = 5 * 60
REAUTH_AT = "_reauth_at"
ACCOUNT_PROOF_AT = "_account_proof_at"
# Second-factor methods that prove control of the account (an SSO "second factor" does not).
ACCOUNT_FACTORS = {"totp", "recovery"}

PASSWORD_BACKEND = "accounts.backends.PortalPasswordBackend"  # noqa: S105  # nosec B105  # a backend class path
LDAP_BACKEND = "accounts.sso.ldap.AgencyLDAPBackend"
SSO_METHODS = {"oidc", "saml"}


def method_for_backend(backend: str) -> str:
    return "ldap" if backend == LDAP_BACKEND else "password"


def safe_next(request, candidate: str | None) -> str:
    """Only a path on this host; anything else goes to the home page."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def redirect_to(request, candidate: str | None) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, candidate))


def sso_only_message(agency) -> str:
    """What staff of an agency without password sign-in should do instead ("" otherwise)."""
    if agency is None or agency.staff_password_login:
        return ""
    if access.sign_in_buttons(agency):
        return (
            f"{agency.name} staff sign in with their organisation account, not a password: "
            "use the sign-in button for your organisation below."
        )
    if access.has_directory_sign_in(agency):
        return (
            f"{agency.name} staff sign in with their network username and password, not a "
            "portal password."
        )
    return f"{agency.name} staff sign in with their organisation account, not a password."


def password_refusal(user: User, agency) -> str | None:
    """The message for staff of an agency that turned password sign-in off, else None. The
    sign-in form shows the same words after a wrong password there, so the answer never
    tells whether the password was right."""
    if agency is None or agency.staff_password_login:
        return None
    if policy.membership_for(user, agency) is None:
        return None
    return sso_only_message(agency)


def begin(
    request,
    user: User,
    *,
    backend: str,
    method: str,
    next_url: str | None = None,
    provider=None,
) -> HttpResponse:
    """The first factor passed: ask for the second, or sign in. ``provider`` is the SSO or
    LDAP option used; its sign-in is recorded once the person is really signed in."""
    agency = getattr(request, "agency", None)
    sso_vouches = method in SSO_METHODS and agency is not None and agency.sso_counts_as_mfa
    if mfa.has_second_factor(user) and not sso_vouches:
        request.session.pop(PENDING, None)
        request.session[PENDING] = {
            "user": user.pk,
            "backend": backend,
            "method": method,
            "at": int(time.time()),
            "next": safe_next(request, next_url),
            "provider": provider.pk if provider is not None else None,
        }
        return HttpResponseRedirect(reverse("accounts:mfa_verify"))
    return finish(
        request,
        user,
        backend=backend,
        method=method,
        mfa_method="sso" if sso_vouches else None,
        next_url=next_url,
        provider=provider,
    )


def finish(
    request,
    user: User,
    *,
    backend: str,
    method: str,
    mfa_method: str | None,
    next_url: str | None,
    provider=None,
) -> HttpResponse:
    request.session.pop(PENDING, None)
    request.signin_method = method  # read by the auth.login audit receiver
    login(request, user, backend=backend)
    if provider is not None:
        identities.record_sso_login(provider=provider, user=user, http_request=request)
    sessions.start(user, method=method, http_request=request)
    if mfa_method:
        passed_second_factor(request, mfa_method)
    if method == "password":
        mark_account_proof(request)
    request.session[REAUTH_AT] = int(time.time())
    target = safe_next(request, next_url)
    agency = getattr(request, "agency", None)
    membership = policy.membership_for(user, agency)
    if membership is not None and target == resolve_url(settings.LOGIN_REDIRECT_URL):
        # Staff who asked for no page in particular start at their request queue.
        target = reverse("staff:request_queue")
    if mfa.required_for(membership, agency) and not mfa.session_satisfies(request):
        return HttpResponseRedirect(
            f"{reverse('accounts:mfa_setup')}?{urlencode({'next': target})}"
        )
    return HttpResponseRedirect(target)


def pending(request) -> tuple[User, dict] | None:
    """The user waiting at the code page, if their pending sign-in is still fresh."""
    data = request.session.get(PENDING)
    if not data or int(time.time()) - int(data.get("at", 0)) > PENDING_SECONDS:
        return None
    # People are platform-wide (not tenant rows); the id comes from our own session.
    user = User.objects.filter(pk=data["user"], is_active=True).first()
    return (user, data) if user is not None else None


def complete_pending(request, user: User, data: dict, *, mfa_method: str) -> HttpResponse:
    provider = None
    if data.get("provider"):
        provider = access.identity_provider(getattr(request, "agency", None), data["provider"])
    return finish(
        request,
        user,
        backend=data["backend"],
        method=data["method"],
        mfa_method=mfa_method,
        next_url=data.get("next"),
        provider=provider,
    )


def mark_reauthenticated(request) -> None:
    request.session[REAUTH_AT] = int(time.time())


def _recent(at) -> bool:
    return at is not None and int(time.time()) - int(at) <= settings.REAUTHENTICATION_MAX_AGE


def recently_authenticated(request) -> bool:
    return _recent(request.session.get(REAUTH_AT))


def passed_second_factor(request, method: str) -> None:
    """Remember the second factor this session passed; a TOTP or recovery code is also an
    account proof (the device and the codes belong to the account, not to an agency)."""
    mfa.mark_session(request, method)
    if method in ACCOUNT_FACTORS:
        mark_account_proof(request)


def mark_account_proof(request) -> None:
    """Only for the portal password or a TOTP / recovery code: never for OIDC, SAML or LDAP."""
    request.session[ACCOUNT_PROOF_AT] = int(time.time())


def has_account_proof(request) -> bool:
    """A recent proof of control of the account itself (see the module docstring); for a
    user with two-factor set up, this session must also have passed it."""
    if not _recent(request.session.get(ACCOUNT_PROOF_AT)):
        return False
    if mfa.has_second_factor(request.user):
        return mfa.session_method(request) in ACCOUNT_FACTORS
    return True
