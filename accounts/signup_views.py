"""Getting an account here: a resident's sign-up (confirmed by email), and accepting a staff
invitation (signed in already, with a new account, or through the agency's single
sign-on)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

import audit
from accounts import access, audit_events, once, ratelimits
from accounts.forms import InvitationPasswordForm, SignupForm
from accounts.once import once_per_form
from accounts.services import identities, invitations
from accounts.services import signup as signup_service
from accounts.sso import config as sso_config

# --- Resident sign-up ------------------------------------------------------------------------


def _login_page(request) -> str:
    return reverse("accounts:login")


@require_http_methods(["GET", "HEAD", "POST"])
@once_per_form(
    replay_to=_login_page,
    replay_message=gettext_noop(
        "That was already sent. Open the link in the email we sent to finish."
    ),
)
def signup(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("home"))
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.limited(request, group="signup_ip", rate=settings.RATE_LIMIT_SIGNUP_PER_IP):
            return ratelimits.too_many(request)
        if form.is_valid():
            signup_service.signup_request(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                http_request=request,
            )
            once.mark_sent(request)
            return render(
                request, "accounts/signup_sent.html", {"email": form.cleaned_data["email"]}
            )
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def signup_confirm(request, token: str):
    """GET shows a button (mail scanners that follow links must not create accounts)."""
    if request.method == "POST":
        user = signup_service.signup_confirm(token=token, http_request=request)
        if user is None:
            return render(request, "accounts/signup_invalid.html", status=400)
        messages.success(request, _("Your account is ready. Sign in to continue."))
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
    # One transaction from finding the invitation (its row locked) to accepting it, so a
    # link is used once even when two tabs post it at the same moment.
    with transaction.atomic():
        invitation, why = invitations.invitation_for_token(agency, token)
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
        existing = access.user_for_email(invitation.email)
        form = None
        if user is None and existing is None:
            form = InvitationPasswordForm(request.POST or None, email=invitation.email)
        if request.method == "POST":
            if request.POST.get("sso"):
                # Continue through the agency's single sign-on; identities checks the address.
                request.session[identities.SESSION_INVITATION] = token
                return HttpResponseRedirect(reverse("accounts:invitation_sso", args=[token]))
            if user is not None:
                invitations.invitation_accept(
                    invitation=invitation, user=user, http_request=request
                )
                messages.success(
                    request, f"You joined {agency.name} as {invitation.get_role_display()}."
                )
                return HttpResponseRedirect(reverse("staff:staff_dashboard"))
            if form is not None and form.is_valid() and agency.staff_password_login:
                invitations.invitation_accept_with_new_account(
                    invitation=invitation,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                    http_request=request,
                )
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
    if agency is None or request.session.get(identities.SESSION_INVITATION) != token:
        raise Http404
    buttons = [(p, sso_config.sign_in_path(p)) for p in access.sign_in_buttons(agency)]
    return render(request, "accounts/invitation_sso.html", {"buttons": buttons})
