"""The API's side of ``accounts.decorators.agency_permission``: the same rules, as a DRF
permission class, for the data endpoints (departments, invoices, audit events, people).

Outside an agency's host, or a signed-in user who is not a member: 404 (the resource does not
exist for them), as on the web. Signed out: 403 "not authenticated". A member whose agency
requires two-factor and whose session has not passed it: 403 with that reason. A role
without the permission, or a read-only role (support access) on an unsafe method: 403."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from accounts import policy
from accounts.signin import mfa
from api.permissions import membership_of, token_of
from api.scopes import READ, WRITE, scope_code

# The token scope each endpoint's permission belongs to (api/scopes.py).
_RESOURCE_OF = {
    "audit": "audit",
    "departments": "departments",
    "invoice": "invoices",
    "request": "invoices",  # request.invoice: making an invoice
    "users": "users",
}


def agency_member(request):
    """The request's agency and the signed-in user's membership of it; 404 when either is
    missing (the same answer an outsider gets on the web)."""
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    if not request.user or not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()
    membership = membership_of(request)  # a token bound to another agency acts as no member
    if membership is None:
        raise Http404
    return agency, membership


def needs(read: policy.Permission, write: policy.Permission | None = None) -> type:
    """A permission class: ``read`` for safe methods, ``write`` (default: ``read``) otherwise."""

    class AgencyPermission(BasePermission):
        read_permission = read
        write_permission = write or read

        def has_permission(self, request, view) -> bool:
            agency, membership = agency_member(request)
            safe = request.method in ("GET", "HEAD", "OPTIONS")
            token = token_of(request)
            if token is not None:
                # A token holds only its scopes; it was made after a fresh two-factor check
                # where the agency requires one (api/tokens), so no session is asked for.
                resource = _RESOURCE_OF[
                    (self.read_permission if safe else self.write_permission).code.split(".")[0]
                ]
                if not token.has_scope(scope_code(resource, READ if safe else WRITE)):
                    return False
            elif mfa.required_for(membership, agency) and not mfa.session_satisfies(request):
                raise exceptions.PermissionDenied(
                    gettext("Your agency requires two-factor authentication; pass it first.")
                )
            wanted = self.read_permission if safe else self.write_permission
            if not policy.role_has(membership.role, wanted):
                return False
            return policy.method_allowed(membership.role, request.method)

    AgencyPermission.__name__ = f"Needs_{read.code.replace('.', '_')}"
    return AgencyPermission
