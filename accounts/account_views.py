"""A person's own account: security overview, password, sessions, name and email, and
linking one of the agency's sign-in options. Re-confirming who you are is in
accounts.signin.views; two-factor pages in accounts.signin.mfa_views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

import audit
from accounts import access, audit_events, ratelimits
from accounts.decorators import require_account_proof, require_recent_auth
from accounts.forms import EmailChangeForm, NameForm, PhoneForm, PortalPasswordChangeForm
from accounts.services import identities, own_account
from accounts.signin import mfa, sessions
from accounts.sso import config as sso_config
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
        ended = own_account.password_change(
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            http_request=request,
        )
        messages.success(
            request,
            _("Your password is changed.")
            + (
                " " + _("%(ended)s other session(s) were signed out.") % {"ended": ended}
                if ended
                else ""
            ),
        )
        return HttpResponseRedirect(reverse("accounts:security"))
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_POST
def session_end(request, session_id: int):
    sessions.own_sessions_context(request.user)
    row = access.get_own_session(request.user, session_id)
    own_account.own_session_end(user=request.user, row=row, http_request=request)
    if row.session_key == request.session.session_key:
        return HttpResponseRedirect(reverse("accounts:login"))
    messages.success(request, _("That session is signed out."))
    return HttpResponseRedirect(reverse("accounts:security"))


@login_required
@require_POST
@require_account_proof(return_to="accounts:security")
def sessions_end_others(request):
    ended = own_account.own_sessions_end_others(user=request.user, http_request=request)
    messages.success(request, _("Signed out %(ended)s other session(s).") % {"ended": ended})
    return HttpResponseRedirect(reverse("accounts:security"))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    """The person's own details: name and phone corrected here, the email address through
    its confirmation link (email_change)."""
    sent = request.POST.get("form") if request.method == "POST" else None
    name_form = NameForm(
        request.POST if sent == "name" else None,
        initial={"full_name": request.user.full_name},
    )
    phone_form = PhoneForm(
        request.POST if sent == "phone" else None,
        initial={"phone": request.user.phone},
    )
    if sent == "name" and name_form.is_valid():
        own_account.name_change(
            user=request.user, full_name=name_form.cleaned_data["full_name"], http_request=request
        )
        messages.success(request, _("Your name is saved."))
        return HttpResponseRedirect(reverse("accounts:profile"))
    if sent == "phone" and phone_form.is_valid():
        own_account.phone_change(
            user=request.user, phone=phone_form.cleaned_data["phone"], http_request=request
        )
        messages.success(request, _("Your phone number is saved."))
        return HttpResponseRedirect(reverse("accounts:profile"))
    return render(
        request, "accounts/profile.html", {"name_form": name_form, "phone_form": phone_form}
    )


@login_required
@require_account_proof
@require_http_methods(["GET", "HEAD", "POST"])
def email_change(request):
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        own_account.email_change_request(
            user=request.user, new_email=form.cleaned_data["email"], http_request=request
        )
        messages.success(
            request,
            _(
                "We sent a link to the new address. Your email changes when you open it and "
                "confirm (within an hour)."
            ),
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
    if own_account.email_change_confirm(user=request.user, token=token, http_request=request):
        messages.success(
            request, _("Your email address is now %(email)s.") % {"email": request.user.email}
        )
    else:
        messages.error(request, _("That link has expired or was already used."))
    return HttpResponseRedirect(reverse("accounts:profile"))


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
        request.session[identities.SESSION_LINK_INTENT] = str(provider.public_id)
        return sso_views.start(request, provider, next_url=reverse("accounts:security"))
    return render(request, "accounts/link_provider.html", {"provider": provider})
