"""The one way a staff view declares what it needs: ``@agency_permission(policy.X)``;
``@require_recent_auth`` for the agency's own sensitive changes (the person proves who they
are again; the agency's single sign-on may vouch); ``@require_account_proof`` for changes
to the account itself, which every agency relies on (only the portal password or a
two-factor code will do: see accounts.signin.flow)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts import policy
from accounts.signin import flow, mfa

ACCOUNT_PROOF_PARAMETER = "account"


def _to(url_name: str, request, *, next_url: str | None = None, **extra) -> HttpResponseRedirect:
    query = {"next": next_url or request.get_full_path(), **extra}
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode(query)}")


def _mark(view: Callable[..., object], **marks: object) -> None:
    """Label a decorated view with what it requires (``view.required_permission``...), read
    by the permission tests. Through the function's ``__dict__``: a plain attribute
    assignment is the same at run time, but type checkers refuse it on a function."""
    view.__dict__.update(marks)


def _return_to(return_to, request, args, kwargs) -> str | None:
    """Where to come back after confirming: the page itself (views answering GET), or for
    POST-only actions a page given as a URL name or a callable of the view's arguments."""
    if return_to is None:
        return None
    if callable(return_to):
        return return_to(request, *args, **kwargs)
    return reverse(return_to)


def agency_permission(permission: policy.Permission):
    """Agency pages only; sign-in required; a non-member gets 404 (the page does not exist
    for them), a member whose role lacks the permission gets 403. A member whom the agency's
    policy requires to use two-factor is sent to set it up, or to enter a code, first. A
    read-only role (a support grant's default) gets 403 on any unsafe method."""

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
            if not policy.method_allowed(membership.role, request.method):
                raise PermissionDenied  # a read-only role (support access) changes nothing
            return view(request, *args, **kwargs)

        _mark(wrapped, required_permission=permission)
        return wrapped

    return decorator


def require_recent_auth(view=None, *, return_to=None):
    """Changing roles, the sign-in policy or sign-in options needs a sign-in (or a
    re-confirmation, single sign-on included) within settings.REAUTHENTICATION_MAX_AGE.
    Place it inside ``@agency_permission`` (so outsiders still get 404 first). Views using
    it answer GET on the same URL, where the person lands again after confirming; POST-only
    views name the page to come back to with ``return_to``."""

    # After confirming, the person comes back to the page; posted data is not carried through.
    return _confirm_first(view, flow.recently_authenticated, return_to=return_to)


def require_account_proof(view=None, *, return_to=None, unless=None):
    """Changes to the account itself, which every agency it works for relies on: two-factor
    (set up, turn off, new recovery codes), email address, password, signing out everywhere
    else. They need a recent *account proof* (accounts.signin.flow.has_account_proof): the
    portal password or a two-factor code, never one agency's single sign-on, which proves
    only what that agency's identity provider says. Without one, the person confirms on the
    re-authentication page, which then offers no single sign-on. ``unless(request)`` names
    the one narrow case a view may let through without it (first two-factor set-up of an
    account that has nothing else to prove itself with: accounts.signin.mfa_views.setup)."""

    def proven(request) -> bool:
        return flow.has_account_proof(request) or bool(unless and unless(request))

    return _confirm_first(
        view, proven, return_to=return_to, query={ACCOUNT_PROOF_PARAMETER: "1"}, account=True
    )


def _confirm_first(view, confirmed, *, return_to, query=None, account=False):
    """The two decorators above: signed in, and ``confirmed(request)``, or off to the
    re-authentication page (which brings the person back to ``return_to`` or this page)."""

    def decorator(protected):
        @wraps(protected)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not confirmed(request):
                return _to(
                    "accounts:reauthenticate",
                    request,
                    next_url=_return_to(return_to, request, args, kwargs),
                    **(query or {}),
                )
            return protected(request, *args, **kwargs)

        _mark(wrapped, requires_recent_auth=True)
        if account:
            _mark(wrapped, requires_account_proof=True)
        return wrapped

    return decorator(view) if view is not None else decorator
