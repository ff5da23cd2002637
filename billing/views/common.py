"""What the staff views of billing may take for granted about the request they answer: the
agency's host resolved it (HostMiddleware sets ``agency``) and ``@agency_permission`` let only
a signed-in member through (``user`` is a User). For the type checker only."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Agency, User


class StaffRequest(HttpRequest):
    agency: Agency
    user: User  # type: ignore[assignment]
