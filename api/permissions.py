"""Who may call an endpoint: the web's policy module (accounts.policy) behind DRF's
permission classes, and a personal token's scopes.

- ``ScopeFor("requests")``: a token must hold ``requests:read`` for a safe method and
  ``requests:write`` for any other. The browser's session holds every scope (what the person
  may do is still the role's).
- ``AgencyMember``: the host is an agency and the caller a member there, through a session or
  a token bound to that agency; anyone else gets 404 (the endpoint does not exist for them).
- ``agency_permission(policy.X)``: as ``AgencyMember`` and the role holds X (else 403); a
  read-only role (support access) is refused every unsafe method, as on the web.
"""

from __future__ import annotations

from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import policy
from api.scopes import READ, WRITE, scope_code
from requests_portal.access import can_act_on


def token_of(request):
    """The personal API token that authenticated the request, or None (a session)."""
    from_auth = getattr(request, "auth", None)
    return from_auth if getattr(from_auth, "is_api_token", False) else None


def acts_for_agency(request) -> bool:
    """Whether the caller may use staff powers on the host's agency: a session, or a token
    bound to that agency (a resident's own token, bound to none, acts as a requester only)."""
    agency = getattr(request, "agency", None)
    if agency is None:
        return False
    token = token_of(request)
    return token is None or token.agency_id == agency.pk


def membership_of(request):
    if not acts_for_agency(request):
        return None
    return policy.membership_for(request.user, request.agency)


class ScopeFor(BasePermission):
    """Set ``resource`` on a subclass (``scope_for("documents")`` makes one)."""

    resource = ""

    def has_permission(self, request, view) -> bool:
        token = token_of(request)
        if token is None:
            return True
        needed = scope_code(self.resource, READ if request.method in SAFE_METHODS else WRITE)
        return token.has_scope(needed)


def scope_for(resource: str) -> type[ScopeFor]:
    return type(f"Scope_{resource}", (ScopeFor,), {"resource": resource})


class AgencySite(BasePermission):
    """Signed in (session or token) on an agency's site: the API has no platform resources."""

    def has_permission(self, request, view) -> bool:
        if getattr(request, "agency", None) is None:
            raise Http404
        return bool(request.user and request.user.is_authenticated)


class AgencyMember(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # 401 / 403 from authentication, as DRF decides
        if membership_of(request) is None:
            raise Http404
        return True


class _AgencyPermission(AgencyMember):
    permission: policy.Permission

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        membership = membership_of(request)
        return policy.role_has(membership.role, self.permission) and policy.method_allowed(
            membership.role, request.method
        )


def agency_permission(permission: policy.Permission) -> type[BasePermission]:
    return type(
        f"Needs_{permission.code.replace('.', '_')}",
        (_AgencyPermission,),
        {"permission": permission},
    )


def may_act(request, records_request, permission: policy.Permission) -> bool:
    """A role's permission on one request (department admins: their departments' only),
    through the same helper the web's action views use."""
    membership = membership_of(request)
    return (
        membership is not None
        and can_act_on(request.user, request.agency, records_request, permission)
        and policy.method_allowed(membership.role, request.method)
    )
