"""The one way a staff view declares what it needs: ``@agency_permission(policy.X)``; and
``@require_recent_auth`` for changes that need the person to prove who they are again."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts import mfa, policy, signin


def _to(url_name: str, request) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}"
    )


def agency_permission(permission: policy.Permission):
    """Agency pages only; sign-in required; a non-member gets 404 (the page does not exist
    for them), a member whose role lacks the permission gets 403. A member whom the agency's
    policy requires to use two-factor is sent to set it up, or to enter a code, first."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            agency = getattr(request, "agency", None)
            if agency is None:
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = policy.membership_for(request.user, agency)
            if membership is None:
                raise Http404
            if mfa.required_for(membership, agency) and not mfa.session_satisfies(request):
                if mfa.has_second_factor(request.user):
                    return _to("accounts:mfa_step_up", request)
                return _to("accounts:mfa_setup", request)
            if not policy.role_has(membership.role, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def require_recent_auth(view):
    """Changing two-factor, an email address, roles or the sign-in policy needs a sign-in
    (or a re-confirmation) within settings.REAUTHENTICATION_MAX_AGE. Place it inside
    ``@agency_permission`` (so outsiders still get 404 first). Views using it answer GET on
    the same URL, where the person lands again after confirming."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not signin.recently_authenticated(request):
            # After confirming, the person comes back to the same page (views using this
            # decorator answer GET with their form); posted data is not carried through.
            return _to("accounts:reauthenticate", request)
        return view(request, *args, **kwargs)

    wrapped.requires_recent_auth = True
    return wrapped
