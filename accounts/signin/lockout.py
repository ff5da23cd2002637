"""Lockout after repeated sign-in failures (django-axes), and the portal's choices for it.

- Failures count per (username, IP) together (settings.AXES_LOCKOUT_PARAMETERS): an attacker
  guessing one account from one address is stopped, while the rest of an office behind the
  same address, and the account's owner elsewhere, can still sign in.
- The cool-off grows with each lockout of the same pair in the last day: 5, 10, 20 ...
  minutes, up to a day (``cool_off``).
- The lockout page is the same whether or not the account exists: axes counts and locks
  unknown usernames exactly like known ones.
- Agency admins unlock their own staff (``unlock``); operators use
  ``manage.py axes_reset_username``.
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog
from axes.utils import reset as axes_reset
from django.conf import settings
from django.template.response import TemplateResponse
from django.utils import timezone

import audit

_PROGRESSION_WINDOW = timedelta(days=1)


def normalise_username(value) -> str:
    return str(value or "").strip().lower()[:254]


def username_from_request(request, credentials=None) -> str:
    """Axes' username: the email as typed, lower-cased, so case variants count together."""
    if credentials and credentials.get("username"):
        return normalise_username(credentials["username"])
    if request is not None and request.method == "POST":
        return normalise_username(request.POST.get("username"))
    return ""


def client_ip(request) -> str | None:
    """The same address the audit log records (the router's view behind Heroku)."""
    return audit.client_ip(request)


def cool_off(request=None) -> timedelta:
    """Progressive cool-off: doubled for every earlier lockout of this username + IP today."""
    if request is None:
        return timedelta(minutes=settings.LOCKOUT_BASE_MINUTES)
    username = username_from_request(request, getattr(request, "axes_credentials", None))
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    if not username or not ip:
        return timedelta(minutes=settings.LOCKOUT_BASE_MINUTES)
    return _cool_off_for(username, ip)


def _cool_off_for(username: str, ip: str) -> timedelta:
    base = timedelta(minutes=settings.LOCKOUT_BASE_MINUTES)
    limit = timedelta(minutes=settings.LOCKOUT_MAX_MINUTES)
    # The lockout being decided right now is already logged when axes asks for its length.
    doublings = max(0, _lockouts_today(username, ip) - 1)
    return min(base * (2 ** min(doublings, 16)), limit)


def _lockouts_today(username: str, ip: str) -> int:
    """How many lockouts this username + IP had in the last day. Axes logs every attempt
    refused during a lockout as ``locked_out`` too; only the failure that began a lockout
    (one logged after an unlocked failure, or first in the window) starts a new one."""
    flags = list(
        AccessFailureLog.objects.filter(
            username=username,
            ip_address=ip,
            attempt_time__gte=timezone.now() - _PROGRESSION_WINDOW,
        )
        .order_by("attempt_time", "id")
        .values_list("locked_out", flat=True)
    )
    pairs = zip([False, *flags], flags, strict=False)
    return sum(1 for before, locked in pairs if locked and not before)


def lockout_response(request, original_response=None, credentials=None):
    minutes = max(1, round(cool_off(request).total_seconds() / 60))
    return TemplateResponse(
        request, "accounts/locked_out.html", {"minutes": minutes}, status=429
    ).render()


def is_locked(username: str) -> bool:
    """Whether any address is currently locked out of this username (for the admin page)."""
    username = normalise_username(username)
    recent = AccessAttempt.objects.filter(username=username)
    limit = settings.AXES_FAILURE_LIMIT
    # Each address's lockout lasts its own cool-off, as when axes decides (not a whole day).
    return any(
        attempt.failures_since_start >= limit
        and attempt.attempt_time >= timezone.now() - _cool_off_for(username, attempt.ip_address)
        for attempt in recent
    )


def unlock(username: str) -> int:
    """Forget the failures of this username from every address; returns how many."""
    return axes_reset(username=normalise_username(username))
