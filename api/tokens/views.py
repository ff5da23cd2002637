"""Pages for personal API tokens: a person's own (list, make, revoke) and an agency admin's
list of the agency's tokens (revoke). A token's text is shown once, on the page the form
answers with, and never again (the database holds only its keyed hash)."""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today, agency_zone
from accounts.once import mark_sent, once_per_form
from accounts.signin import mfa
from api.tokens import access, services
from api.tokens.forms import TokenForm


def fresh_second_factor(request) -> bool:
    """A second factor passed in this session within the re-authentication window."""
    at = request.session.get(mfa.SESSION_MFA_AT)
    return (
        mfa.session_satisfies(request)
        and at is not None
        and int(time.time()) - int(at) <= settings.REAUTHENTICATION_MAX_AGE
    )


def _needs_step_up(request):
    """Staff whose agency requires two-factor make a token only just after passing it."""
    membership = policy.membership_for(request.user, request.agency)
    if not mfa.required_for(membership, request.agency) or fresh_second_factor(request):
        return None
    page = "accounts:mfa_step_up" if mfa.has_second_factor(request.user) else "accounts:mfa_setup"
    query = urlencode({"next": reverse("api_tokens:list")})
    return HttpResponseRedirect(f"{reverse(page)}?{query}")


def _expiry(request, day):
    """The end of the chosen day on the agency's clock (capped at a year from now)."""
    end = datetime.datetime.combine(
        day, datetime.time(23, 59, 59), tzinfo=agency_zone(request.agency)
    )
    return min(end, timezone.now() + services.MAX_LIFETIME)


def _page(request, form, *, shown="", status=200):
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": access.own_tokens(request.user, request.agency),
            "shown": shown,
            "bound": policy.membership_for(request.user, request.agency) is not None,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@once_per_form(replay_to=lambda request: reverse("api_tokens:list"))
def token_list(request):
    if request.agency is None:
        raise Http404  # tokens are made on an agency's site (the API answers there only)
    today = agency_today(request.agency)
    if request.method != "POST":
        return _page(request, TokenForm(today=today))
    step_up = _needs_step_up(request)
    if step_up is not None:
        return step_up
    form = TokenForm(request.POST, today=today)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        _token, text = services.token_create(
            user=request.user,
            agency=request.agency,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=_expiry(request, form.cleaned_data["expires_on"]),
            http_request=request,
        )
    except services.TokenRefused as error:
        form.add_error(None, str(error))
        return _page(request, form, status=400)
    mark_sent(request)
    return _page(request, TokenForm(today=today), shown=text)


@require_POST
@login_required
def token_revoke(request, token_id):
    token = access.get_own_token(request.user, request.agency, token_id)
    services.token_revoke(token=token, actor=request.user, http_request=request)
    messages.success(request, _("The token is revoked: it no longer works."))
    return HttpResponseRedirect(reverse("api_tokens:list"))


@require_http_methods(["GET", "HEAD"])
@agency_permission(policy.USERS_MANAGE)
def agency_token_list(request):
    return render(
        request,
        "api/agency_tokens.html",
        {"tokens": access.agency_tokens_for(request.user, request.agency)},
    )


@require_POST
@agency_permission(policy.USERS_MANAGE)
def agency_token_revoke(request, token_id):
    token = access.get_agency_token_for(request.user, request.agency, token_id)
    services.token_revoke(token=token, actor=request.user, http_request=request)
    messages.success(request, _("The token is revoked: it no longer works."))
    return HttpResponseRedirect(reverse("api_tokens_staff:list"))
