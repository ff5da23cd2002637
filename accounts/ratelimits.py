"""Rate limits on the sign-in, reset, sign-up, invitation and two-factor endpoints
(django-ratelimit, counted in the cache: Redis in production, shared by every web process).

They sit in front of the per-account protections (django-axes lockout, django-otp's
back-off): these stop volume from one address or against one account; those stop guessing.
"""

from __future__ import annotations

from django.conf import settings
from django.template.response import TemplateResponse
from django_ratelimit.core import is_ratelimited

import audit


def ip_key(group, request) -> str:
    return audit.client_ip(request) or "unknown"


def limited(request, *, group: str, rate: str, key=ip_key) -> bool:
    """Count this request against the limit; True when it is over."""
    return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)


def too_many(request) -> TemplateResponse:
    response = TemplateResponse(request, "accounts/rate_limited.html", {}, status=429)
    response["Retry-After"] = "600"
    response.render()
    return response


def code_attempts_exceeded(request, user) -> bool:
    """Two-factor codes and re-authentication, per person (wherever they come from)."""
    return limited(
        request,
        group="mfa_user",
        rate=settings.RATE_LIMIT_MFA_PER_USER,
        key=lambda group, req: f"user:{user.pk}",
    )
