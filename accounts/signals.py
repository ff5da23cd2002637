"""Thin receivers: Django's and django-axes' signals are the only hooks into their login,
logout and lockout code, so they record the audit events and do nothing else."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

import audit
from accounts import audit_events
from accounts.signin import sessions
from accounts.signin.lockout import normalise_username


def _served(request) -> bool:
    # Only requests the tenant middleware resolved have a tenant context to record into;
    # a shell or a test's force_login() has none and nothing to attribute.
    return request is not None and hasattr(request, "agency")


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs):
    if _served(request):
        method = getattr(request, "signin_method", "") or "password"
        audit.record(
            audit_events.LOGIN_SUCCEEDED.code,
            http_request=request,
            actor=user,
            details={"method": method},
        )


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failure(sender, credentials, request=None, **kwargs):
    if _served(request):
        email = normalise_username(credentials.get("username") or credentials.get("email"))
        details: dict[str, object] = {"email": email}
        if getattr(request, "axes_locked_out", False):
            details["locked_out"] = True
        audit.record(audit_events.LOGIN_FAILED.code, http_request=request, details=details)


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def record_lockout(sender, request, username, ip_address, **kwargs):
    if _served(request):
        audit.record(
            audit_events.LOCKED_OUT.code,
            http_request=request,
            details={"email": normalise_username(username)},
        )


@receiver(user_logged_out, dispatch_uid="audit_logout")
def record_logout(sender, request, user, **kwargs):
    if _served(request) and user is not None:
        sessions.mark_ended(request.session.session_key, reason="signed out")
        if not getattr(request, "session_expiring", False):
            audit.record(audit_events.LOGGED_OUT.code, http_request=request, actor=user)
