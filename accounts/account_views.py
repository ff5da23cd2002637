"""A person's own account: security overview, password, sessions, name and email, linked
sign-ins, re-confirming who they are; resident sign-up; accepting a staff invitation."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

import audit
from accounts import (
    access,
    audit_events,
    mfa,
    mfa_views,
    ratelimits,
    services,
    sessions,
    signin,
    tenancy,
)
from accounts.decorators import ACCOUNT_PROOF_PARAMETER, require_account_proof, require_recent_auth
from accounts.forms import (
    EmailChangeForm,
    InvitationPasswordForm,
    NameForm,
    PortalPasswordChangeForm,
    ReauthForm,
    SignupForm,
)
from accounts.sso import config as sso_config
from accounts.sso import linking
from accounts.sso import views as sso_views


@login_required
@require_http_methods(["GET", "HEAD"])
def security(request):
    sessions.own_sessions_context(request.user)
    agency = getattr(request, "agency", None)
    linked = list(access.linked_identities(request.user, agency))
    linked_ids = {identity.provider_id for identity in linked}
    return render(
        request,
        "accounts/security.html",
        {
            "has_mfa": mfa.has_second_factor(request.user),
            "mfa_required": bool(mfa.required_by(request.user)),
            "recovery_left": mfa.recovery_codes_left(request.user),
            "sessions": access.own_sessions(request.user).select_related("agency"),
            "current_key": request.session.session_key,
            "linked": linked,
            "linkable": [
                (p, sso_config.sign_in_path(p))
                for p in access.sign_in_buttons(agency)
                if p.pk not in linked_ids
            ],
            "has_password": request.user.has_usable_password(),
        },
    )


@login_required
@require_account_proof
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request):
    """Django's form checks the old password directly (not through ``authenticate``, so
    django-axes does not count it): each try counts against the person's code and
    re-authentication limit, and a wrong one is recorded like a failed re-authentication."""
    form = PortalPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and ratelimits.code_attempts_exceeded(request, request.user):
        return ratelimits.too_many(request)
    valid = request.method == "POST" and form.is_valid()
    if request.method == "POST" and "old_password" in form.errors:
        audit.record(
            audit_events.REAUTH_FAILED.code,
            http_request=request,
            details={"method": "password change"},
        )
    if valid:
        with transaction.atomic():
            user = form.save()
            # Keeps this session (its stored password hash is refreshed); the others end.
            update_session_auth_hash(request, user)
            ended = services.password_changed(user=user, request=request)
        messages.success(
            request,
            "Your password is changed."
            + (f" {ended} other session(s) were signed out." if ended else ""),
        )
        return HttpResponseRedirect(reverse("accounts:security"))
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_POST
def session_end(request, session_id: int):
    sessions.own_sessions_context(request.user)
    row = access.get_own_session(request.user, session_id)
    with transaction.atomic():
        sessions.end(row, reason="ended by its owner")
        audit.record(
            audit_events.SESSION_ENDED.code,
            http_request=request,
            details={"email": request.user.email, "session": row.pk},
        )
    if row.session_key == request.session.session_key:
        return HttpResponseRedirect(reverse("accounts:login"))
    messages.success(request, "That session is signed out.")
    return HttpResponseRedirect(reverse("accounts:security"))


@login_required
@require_POST
@require_account_proof(return_to="accounts:security")
def sessions_end_others(request):
    with transaction.atomic():
        ended = sessions.end_all(
            request.user,
            reason="ended by its owner",
            except_key=request.session.session_key,
            everywhere=True,
        )
        audit.record(
            audit_events.SESSIONS_ENDED.code,
            http_request=request,
            details={"email": request.user.email, "count": ended},
        )
    messages.success(request, f"Signed out {ended} other session(s).")
    return HttpResponseRedirect(reverse("accounts:security"))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    name_form = NameForm(
        request.POST if request.POST.get("form") == "name" else None,
        initial={"full_name": request.user.full_name},
    )
    if request.method == "POST" and name_form.is_bound and name_form.is_valid():
        services.name_change(
            user=request.user, full_name=name_form.cleaned_data["full_name"], request=request
        )
        messages.success(request, "Your name is saved.")
        return HttpResponseRedirect(reverse("accounts:profile"))
    return render(request, "accounts/profile.html", {"name_form": name_form})


@login_required
@require_account_proof
@require_http_methods(["GET", "HEAD", "POST"])
def email_change(request):
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.email_change_request(
            user=request.user, new_email=form.cleaned_data["email"], request=request
        )
        messages.success(
            request,
            "We sent a link to the new address. Your email changes when you open it and "
            "confirm (within an hour).",
        )
        return HttpResponseRedirect(reverse("accounts:profile"))
    return render(request, "accounts/email_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def email_change_confirm(request, token: str):
    """GET shows a button; only the POST changes the address (mail scanners and link
    previews that open the link must not change anyone's email)."""
    if request.method != "POST":
        return render(request, "accounts/email_change_confirm.html")
    if services.email_change_confirm(user=request.user, token=token, request=request):
        messages.success(request, f"Your email address is now {request.user.email}.")
    else:
        messages.error(request, "That link has expired or was already used.")
    return HttpResponseRedirect(reverse("accounts:profile"))


def _reauth_with_code(request, code: str) -> tuple[bool, str]:
    """(passed, method) for a code typed at re-authentication: the authenticator's code, or
    one of the person's recovery codes."""
    user = request.user
    if mfa_views.looks_like_recovery_code(code):
        return mfa.use_recovery_code(user, code), "recovery"
    device = mfa.confirmed_device(user)
    return device is not None and mfa.verify_totp(device, code, request=request), "totp"


def _reauth_with_password(request, password: str) -> tuple[bool, str]:
    """(passed, method): only the portal password itself counts; through authenticate(), so
    django-axes counts wrong passwords here too."""
    user = authenticate(request, username=request.user.email, password=password)
    ok = (
        user is not None
        and user.pk == request.user.pk
        and getattr(user, "backend", "") == signin.PASSWORD_BACKEND
    )
    if ok:
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
    next_url = signin.safe_next(request, request.GET.get("next") or request.POST.get("next"))
    for_account = (
        request.GET.get(ACCOUNT_PROOF_PARAMETER) or request.POST.get(ACCOUNT_PROOF_PARAMETER)
    ) == "1"
    user = request.user
    agency = getattr(request, "agency", None)
    has_mfa = mfa.has_second_factor(user)
    password_refusal = signin.password_refusal(user, agency)
    code_required = (
        for_account and has_mfa and mfa.session_method(request) not in signin.ACCOUNT_FACTORS
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
                signin.passed_second_factor(request, method)
        elif form.cleaned_data.get("password") and password_allowed:
            ok, method = _reauth_with_password(request, form.cleaned_data["password"])
            if ok:
                signin.mark_account_proof(request)
        elif form.cleaned_data.get("password"):
            method = "password"
            if password_refusal and user.has_usable_password():
                form.add_error(None, password_refusal)
            elif code_required:
                form.add_error(
                    None,
                    "Enter a code from your authenticator app: your password alone is not "
                    "enough for this change.",
                )
        if ok:
            signin.mark_reauthenticated(request)
            audit.record(
                audit_events.REAUTHENTICATED.code, http_request=request, details={"method": method}
            )
            return HttpResponseRedirect(next_url)
        audit.record(
            audit_events.REAUTH_FAILED.code, http_request=request, details={"method": method}
        )
        if not form.errors:
            form.add_error(None, "That didn't match. Try again.")
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


@login_required
@require_recent_auth
@require_http_methods(["GET", "HEAD", "POST"])
def link_provider(request, provider_id: int):
    """Start linking one of this agency's sign-in options to the signed-in account: the
    provider's answer comes back to accounts.sso and is linked by (provider, subject)."""
    agency = getattr(request, "agency", None)
    provider = next((p for p in access.sign_in_buttons(agency) if p.pk == provider_id), None)
    if provider is None:
        raise Http404
    if request.method == "POST":
        request.session[linking.SESSION_LINK_INTENT] = str(provider.public_id)
        return sso_views.start(request, provider, next_url=reverse("accounts:security"))
    return render(request, "accounts/link_provider.html", {"provider": provider})


# --- Resident sign-up ------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("home"))
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.limited(request, group="signup_ip", rate=settings.RATE_LIMIT_SIGNUP_PER_IP):
            return ratelimits.too_many(request)
        if form.is_valid():
            services.signup_request(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
            return render(
                request, "accounts/signup_sent.html", {"email": form.cleaned_data["email"]}
            )
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def signup_confirm(request, token: str):
    """GET shows a button (mail scanners that follow links must not create accounts)."""
    if request.method == "POST":
        user = services.signup_confirm(token=token, request=request)
        if user is None:
            return render(request, "accounts/signup_invalid.html", status=400)
        messages.success(request, "Your account is ready. Sign in to continue.")
        return HttpResponseRedirect(reverse("accounts:login"))
    return render(request, "accounts/signup_confirm.html")


# --- Invitations -----------------------------------------------------------------------------


def _refused_invitation(request, reason: str):
    audit.record(
        audit_events.INVITATION_REFUSED.code, http_request=request, details={"reason": reason}
    )
    return render(request, "accounts/invitation_invalid.html", status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, token: str):
    """Join an agency's staff. Signed in as the invited address: one click. A new person:
    choose a name and password (every validator applies), or use the agency's single
    sign-on. Someone signed in as another address is asked to sign out first."""
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    if request.method == "POST" and ratelimits.limited(
        request, group="invite_accept_ip", rate=settings.RATE_LIMIT_SIGNUP_PER_IP
    ):
        return ratelimits.too_many(request)
    with transaction.atomic():
        invitation, why = services.invitation_for_token(agency, token)
        if invitation is None:
            return _refused_invitation(request, why)
        user = request.user if request.user.is_authenticated else None
        if user is not None and user.email.lower() != invitation.email.lower():
            return render(
                request,
                "accounts/invitation_other_account.html",
                {"invitation": invitation},
                status=403,
            )
        existing = services.user_for_email(invitation.email)
        form = None
        if user is None and existing is None:
            form = InvitationPasswordForm(request.POST or None, email=invitation.email)
        if request.method == "POST":
            if request.POST.get("sso"):
                # Continue through the agency's single sign-on; linking checks the address.
                request.session[linking.SESSION_INVITATION] = token
                return HttpResponseRedirect(reverse("accounts:invitation_sso", args=[token]))
            if user is not None:
                services.invitation_accept(invitation=invitation, user=user, request=request)
                messages.success(
                    request, f"You joined {agency.name} as {invitation.get_role_display()}."
                )
                return HttpResponseRedirect(reverse("staff:staff_dashboard"))
            if form is not None and form.is_valid() and agency.staff_password_login:
                new_user = services.user_create_for_invitation(
                    email=invitation.email,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                    request=request,
                )
                services.invitation_accept(invitation=invitation, user=new_user, request=request)
                messages.success(
                    request, f"Your account is ready. Sign in to start working at {agency.name}."
                )
                return HttpResponseRedirect(reverse("accounts:login"))
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "existing": existing is not None and user is None,
            "password_allowed": agency.staff_password_login,
            "sso_buttons": access.sign_in_buttons(agency),
            "expires_in": max(0, int(invitation.expires_at.timestamp() - time.time()) // 60),
        },
    )


@require_http_methods(["GET", "HEAD"])
def invitation_sso(request, token: str):
    """Choose which of the agency's sign-in options to accept the invitation with."""
    agency = getattr(request, "agency", None)
    if agency is None or request.session.get(linking.SESSION_INVITATION) != token:
        raise Http404
    buttons = [(p, sso_config.sign_in_path(p)) for p in access.sign_in_buttons(agency)]
    return render(request, "accounts/invitation_sso.html", {"buttons": buttons})
