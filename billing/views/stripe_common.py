"""What the Stripe pages share: the host's agency and the signed-in person, typed."""

from __future__ import annotations

from typing import cast

from django.http import Http404, HttpRequest

from accounts.models import Agency, User


def agency_of(request: HttpRequest) -> Agency:
    """The agency of the host (set by HostMiddleware); the platform's own host: 404."""
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    return cast(Agency, agency)


def member(request: HttpRequest) -> User:
    """The signed-in person of a view behind ``@agency_permission``."""
    return cast(User, request.user)
