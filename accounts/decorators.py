"""The one way a staff view declares what it needs: ``@agency_permission(policy.X)``."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts import policy


def agency_permission(permission: policy.Permission):
    """Agency pages only; sign-in required; a non-member gets 404 (the page does not exist
    for them), a member whose role lacks the permission gets 403."""

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
            if not policy.role_has(membership.role, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator
