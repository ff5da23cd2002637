"""Sign-in pages: signing in, resetting a forgotten password by email, and confirming who you
are again before a sensitive change (re-authentication). The code step is in mfa_views."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

import audit
from accounts import access, audit_events, ratelimits, tenancy
from accounts.decorators import ACCOUNT_PROOF_PARAMETER
from accounts.services import own_account
from accounts.signin import flow, mfa
from accounts.signin.forms import (
    LoginForm,
    PortalPasswordResetForm,
    PortalSetPasswordForm,
    ReauthForm,
)
from accounts.sso import config as sso_config


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if ratelimits.limited(request, group="login_ip", rate=settings.RATE_LIMIT_LOGIN_PER_IP):
            return ratelimits.too_many(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        method = flow.method_for_backend(user.backend)
        return flow.begin(
            self.request,
            user,
            backend=user.backend,
            method=method,
            next_url=self.get_redirect_url(),
            provider=getattr(self.request, "ldap_provider", None) if method == "ldap" else None,
        )

    def get_success_url(self):
        url = super().get_success_url()
        # A signed-in user sent to ?next=<this page> would loop; Django raises instead.
        return resolve_url(settings.LOGIN_REDIRECT_URL) if url == self.request.path else url

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = getattr(self.request, "agency", None)
        buttons = access.sign_in_buttons(agency)
        context["sso_buttons"] = [(p, sso_config.sign_in_path(p)) for p in buttons]
        context["directory_sign_in"] = access.has_directory_sign_in(agency)
        context["staff_password_off"] = agency is not None and not agency.staff_password_login
        return context


def _reset_email_key(group, request) -> str:
    return (request.POST.get("email") or "").strip().lower()[:254] or ratelimits.ip_key(
        group, request
    )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        by_ip = ratelimits.limited(request, group="reset_ip", rate=settings.RATE_LIMIT_RESET_PER_IP)
        by_email = ratelimits.limited(
            request,
            group="reset_email",
            rate=settings.RATE_LIMIT_RESET_PER_EMAIL,
            key=_reset_email_key,
        )
        if by_ip or by_email:
            return ratelimits.too_many(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Recorded in the chain of the host that received the request (the platform's on
        # the base domain); the email itself leaves after the transaction commits.
        audit.record(
            audit_events.PASSWORD_RESET_REQUESTED.code,
            http_request=self.request,
            details={"email": form.cleaned_data["email"][:254]},
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's single-use, one-hour token. A reset never signs anyone in (so it never skips
    two-factor), and it ends every session the person had."""

    form_class = PortalSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = False

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        # A good link first answers with a redirect (Django hides the token); a page saying
        # the link is invalid is a 200 without validlink.
        if not self.validlink and response.status_code == 200:
            audit.record(
                audit_events.PASSWORD_RESET_REFUSED.code,
                http_request=self.request,
                details={"reason": "expired, used or unknown link"},
            )
        return response

    def form_valid(self, form):
        # Django's own form_valid saves the form itself; here the service sets the password,
        # ends the sessions and records the reset in one transaction. Then, as Django does,
        # the token leaves the session and the browser goes on (nobody is signed in).
        own_account.password_reset(
            user=form.user,
            new_password=form.cleaned_data["new_password1"],
            http_request=self.request,
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


def _reauth_with_code(request, code: str) -> tuple[bool, str]:
    """(passed, method) for a code typed at re-authentication: the authenticator's code, or
    one of the person's recovery codes."""
    user = request.user
    if mfa.looks_like_recovery_code(code):
        return mfa.use_recovery_code(user, code), "recovery"
    device = mfa.confirmed_device(user)
    return device is not None and mfa.verify_totp(device, code, http_request=request), "totp"


def _reauth_with_password(request, password: str) -> tuple[bool, str]:
    """(passed, method): only the portal password itself counts; through authenticate(), so
    django-axes counts wrong passwords here too."""
    user = authenticate(request, username=request.user.email, password=password)
    ok = (
        user is not None
        and user.pk == request.user.pk
        and getattr(user, "backend", "") == flow.PASSWORD_BACKEND
    )
    if ok and user is not None:  # ok implies a user; the check is for the type checker
        # A correct password may have been re-hashed (an older hasher upgraded to
        # Argon2id); keep this session valid for the new hash.
        update_session_auth_hash(request, user)
    return ok, "password"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reauthenticate(request):
    """Prove it is still you before a sensitive change: password or two-factor code (or,
    for the agency's own settings, signing in with its single sign-on again).

    For changes to the account itself (``?account=1``, from ``require_account_proof``) the
    page offers no single sign-on: that proves only what one agency's provider says, and
    the account may work for others. Someone with two-factor on then also needs their code
    unless this session already passed it. Staff of an agency that turned password sign-in
    off can't confirm with a portal password on its site."""
    next_url = flow.safe_next(request, request.GET.get("next") or request.POST.get("next"))
    for_account = (
        request.GET.get(ACCOUNT_PROOF_PARAMETER) or request.POST.get(ACCOUNT_PROOF_PARAMETER)
    ) == "1"
    user = request.user
    agency = getattr(request, "agency", None)
    has_mfa = mfa.has_second_factor(user)
    password_refusal = flow.password_refusal(user, agency)
    code_required = (
        for_account and has_mfa and mfa.session_method(request) not in flow.ACCOUNT_FACTORS
    )
    password_allowed = user.has_usable_password() and password_refusal is None and not code_required
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if ratelimits.code_attempts_exceeded(request, user):
            return ratelimits.too_many(request)
        ok = False
        method = ""
        if form.cleaned_data.get("code"):
            ok, method = _reauth_with_code(request, form.cleaned_data["code"])
            if ok:
                flow.passed_second_factor(request, method)
        elif form.cleaned_data.get("password") and password_allowed:
            ok, method = _reauth_with_password(request, form.cleaned_data["password"])
            if ok:
                flow.mark_account_proof(request)
        elif form.cleaned_data.get("password"):
            method = "password"
            if password_refusal and user.has_usable_password():
                form.add_error(None, password_refusal)
            elif code_required:
                form.add_error(
                    None,
                    _(
                        "Enter a code from your authenticator app: your password alone is not "
                        "enough for this change."
                    ),
                )
        if ok:
            flow.mark_reauthenticated(request)
            audit.record(
                audit_events.REAUTHENTICATED.code, http_request=request, details={"method": method}
            )
            return HttpResponseRedirect(next_url)
        audit.record(
            audit_events.REAUTH_FAILED.code, http_request=request, details={"method": method}
        )
        if not form.errors:
            form.add_error(None, _("That didn't match. Try again."))
    linked = [i.provider for i in access.linked_identities(user, agency)]
    return render(
        request,
        "accounts/reauthenticate.html",
        {
            "form": form,
            "next": next_url,
            "for_account": for_account,
            "has_password": password_allowed,
            "password_refused": user.has_usable_password() and password_refusal is not None,
            "code_required": code_required,
            "has_mfa": has_mfa,
            "sso": []
            if for_account
            else [(p, sso_config.sign_in_path(p)) for p in linked if p.is_enabled],
            "platform_url": tenancy.platform_origin() + reverse("accounts:login"),
            "platform_host": settings.PORTAL_BASE_DOMAIN,
        },
    )
