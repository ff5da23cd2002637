"""Two-factor pages: the code step of signing in, setting up an authenticator app, recovery
codes, stepping up an existing session, and turning two-factor off."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import policy, ratelimits
from accounts.decorators import require_account_proof
from accounts.services import members, two_factor
from accounts.signin import flow, mfa
from accounts.signin.forms import CodeForm, TotpConfirmForm

WRONG_CODE = gettext_lazy("That code didn't work. Check your authenticator app and try again.")


def _wait_message(user) -> str:
    device = mfa.confirmed_device(user)
    wait = mfa.throttle_wait_seconds(device) if device is not None else 0
    if wait > 2:
        return _(
            "That code didn't work. Check your authenticator app and try again. "
            "After several wrong codes, wait %(wait)s seconds before the next try."
        ) % {"wait": wait}
    return str(WRONG_CODE)


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """The second step of signing in, for someone who has passed the first."""
    found = flow.pending(request)
    if found is None:
        messages.info(request, _("Please sign in again."))
        return HttpResponseRedirect(reverse("accounts:login"))
    user, data = found
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.code_attempts_exceeded(request, user):
            return ratelimits.too_many(request)
        if form.is_valid():
            method = two_factor.second_factor_check(
                user=user, code=form.cleaned_data["code"], http_request=request
            )
            if method is not None:
                return flow.complete_pending(request, user, data, mfa_method=method)
            form.add_error("code", _wait_message(user))
    return render(request, "accounts/mfa_verify.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def step_up(request):
    """A signed-in session that has not passed two-factor yet (the agency's policy changed,
    or it signed in through a provider the agency doesn't trust for it)."""
    next_url = flow.safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if mfa.session_satisfies(request):
        return HttpResponseRedirect(next_url)
    if not mfa.has_second_factor(request.user):
        return HttpResponseRedirect(f"{reverse('accounts:mfa_setup')}?next={next_url}")
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.code_attempts_exceeded(request, request.user):
            return ratelimits.too_many(request)
        if form.is_valid():
            method = two_factor.second_factor_check(
                user=request.user, code=form.cleaned_data["code"], http_request=request
            )
            if method is not None:
                flow.passed_second_factor(request, method)
                flow.mark_reauthenticated(request)
                return HttpResponseRedirect(next_url)
            form.add_error("code", _wait_message(request.user))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": next_url})


def may_enrol_without_account_proof(request) -> bool:
    """The one case where two-factor set-up does not wait for an account proof: staff who
    signed in (recently) through their agency's single sign-on or directory, whose account
    has no second factor yet and no portal password usable here, and who work for no other
    agency. Their agency's provider is then the only way into the account at all, so it is
    the strongest proof there is; asking for more would lock them out of a set-up their
    agency requires. Anyone who also works elsewhere, or can type a portal password here,
    proves the account first."""
    agency = getattr(request, "agency", None)
    user = request.user
    if agency is None or not flow.recently_authenticated(request):
        return False
    if policy.membership_for(user, agency) is None or mfa.has_second_factor(user):
        return False
    if user.has_usable_password() and flow.password_refusal(user, agency) is None:
        return False
    return members.active_memberships_elsewhere(user, agency) == 0


@login_required
@require_account_proof(unless=may_enrol_without_account_proof)
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request):
    """Scan a QR code (or type the key), confirm with a code, get recovery codes once. The
    secret waits in the session until a correct code: no device row before that."""
    next_url = flow.safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if mfa.has_second_factor(request.user):
        messages.info(request, _("Two-factor sign-in is already on for your account."))
        return HttpResponseRedirect(reverse("accounts:security"))
    pending = mfa.pending_device(user=request.user, http_request=request)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if ratelimits.code_attempts_exceeded(request, request.user):
            return ratelimits.too_many(request)
        codes = two_factor.two_factor_enrol(
            user=request.user, code=form.cleaned_data["code"], http_request=request
        )
        if codes is not None:
            flow.passed_second_factor(request, "totp")
            # Shown in this response only: not stored, not redirected to, not cached.
            return render(
                request,
                "accounts/mfa_recovery_codes.html",
                {"codes": codes, "next": next_url, "first_time": True},
            )
        form.add_error("code", WRONG_CODE)
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(pending),
            "manual_key": mfa.manual_key(pending),
            "next": next_url,
            "required": _required_here(request),
        },
    )


def _required_here(request) -> bool:
    agency = getattr(request, "agency", None)
    return mfa.required_for(policy.membership_for(request.user, agency), agency)


@login_required
@require_account_proof
@require_http_methods(["GET", "HEAD", "POST"])
def recovery_codes(request):
    if not mfa.has_second_factor(request.user):
        return HttpResponseRedirect(reverse("accounts:mfa_setup"))
    if request.method == "POST":
        codes = two_factor.recovery_codes_replace(user=request.user, http_request=request)
        return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes})
    return render(
        request,
        "accounts/mfa_recovery_confirm.html",
        {"left": mfa.recovery_codes_left(request.user)},
    )


@login_required
@require_account_proof
@require_http_methods(["GET", "HEAD", "POST"])
def disable(request):
    required = mfa.required_by(request.user)
    if request.method == "POST" and not required:
        two_factor.two_factor_disable(user=request.user, http_request=request)
        messages.success(request, _("Two-factor sign-in is off."))
        return HttpResponseRedirect(reverse("accounts:security"))
    return render(request, "accounts/mfa_disable.html", {"required_by": required})
