"""A person's own two-factor sign-in: checking a code, setting up an authenticator app, new
recovery codes, turning it off; and platform support's reset of someone else's.

Devices and recovery codes belong to the account, not to an agency (accounts.signin.mfa).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts import audit_events
from accounts.models import User
from accounts.signin import mfa, sessions


def second_factor_check(*, user: User, code: str, http_request: HttpRequest) -> str | None:
    """The method a correct code used ("totp" or "recovery"), or None. Audits both ways.

    A recovery code is tried whatever the authenticator's back-off says: someone who knows
    the password could otherwise keep the owner, who lost their phone, out for good by
    typing wrong codes. (Recovery codes carry 80 bits; the per-person rate limit still
    applies.)"""
    device = mfa.confirmed_device(user)
    method = None
    if mfa.looks_like_recovery_code(code):
        if mfa.use_recovery_code(user, code):
            method = "recovery"
    elif device is not None and mfa.throttle_wait_seconds(device):
        audit.record(
            audit_events.MFA_FAILED.code,
            http_request=http_request,
            actor=user,
            details={"method": "totp", "throttled": True},
        )
        return None
    elif device is not None and mfa.verify_totp(device, code, http_request=http_request):
        method = "totp"
    if method is None:
        audit.record(
            audit_events.MFA_FAILED.code,
            http_request=http_request,
            actor=user,
            details={"method": "totp or recovery code"},
        )
        return None
    audit.record(
        audit_events.MFA_VERIFIED.code,
        http_request=http_request,
        actor=user,
        details={"method": method, "recovery_codes_left": mfa.recovery_codes_left(user)},
    )
    return method


def two_factor_enrol(*, user: User, code: str, http_request: HttpRequest) -> list[str] | None:
    """Confirm the enrolment waiting in the signed-in person's session with a code from
    their app: the device is saved and a first set of recovery codes returned (to show
    once). None when the code is wrong (recorded as a failed attempt)."""
    with transaction.atomic():
        device = mfa.confirm_pending(code, user=user, http_request=http_request)
        if device is not None:
            codes = mfa.replace_recovery_codes(user)
            audit.record(audit_events.MFA_ENROLLED.code, http_request=http_request)
            return codes
    audit.record(
        audit_events.MFA_FAILED.code, http_request=http_request, details={"method": "totp setup"}
    )
    return None


def recovery_codes_replace(*, user: User, http_request: HttpRequest) -> list[str]:
    """A fresh set of recovery codes (the old ones stop working), returned to show once."""
    with transaction.atomic():
        codes = mfa.replace_recovery_codes(user)
        audit.record(audit_events.MFA_RECOVERY_CODES_CREATED.code, http_request=http_request)
    return codes


def two_factor_disable(*, user: User, http_request: HttpRequest) -> int:
    """Turn the person's own two-factor off and end their other sessions on every host
    (sessions that passed two-factor elsewhere must not outlive it). The caller checked that
    no agency they work for requires it (``mfa.required_by``). Returns how many ended."""
    with transaction.atomic():
        mfa.remove_all(user)
        http_request.session.pop(mfa.SESSION_MFA_METHOD, None)
        ended = sessions.end_all(
            user,
            reason="two-factor turned off",
            except_key=http_request.session.session_key,
            everywhere=True,
        )
        audit.record(
            audit_events.MFA_DISABLED.code,
            http_request=http_request,
            details={"other_sessions_ended": ended},
        )
    return ended


def two_factor_reset_by_support(*, user: User, reason: str) -> int:
    """Platform support turns off someone's two-factor (they lost phone and codes) and ends
    their sessions everywhere, recorded in the platform's chain. Run in the platform's
    context. Returns how many sessions ended."""
    with transaction.atomic():
        mfa.remove_all(user)
        ended = sessions.end_all(user, reason="two-factor reset", everywhere=True)
        audit.record(
            audit_events.MFA_RESET.code,
            agency=None,
            target=user,
            details={
                "email": user.email,
                "by": "platform support",
                "reason": reason[:200],
                "sessions_ended": ended,
            },
        )
    return ended
