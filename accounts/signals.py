"""Thin receivers: Django's auth signals are the only hook into its login and logout views,
so they record the audit events and do nothing else."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

import audit
from accounts import audit_events


def _served(request) -> bool:
    # Only requests the tenant middleware resolved have a tenant context to record into;
    # a shell or a test's force_login() has none and nothing to attribute.
    return request is not None and hasattr(request, "agency")


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs):
    if _served(request):
        audit.record(audit_events.LOGIN_SUCCEEDED.code, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failure(sender, credentials, request=None, **kwargs):
    if _served(request):
        email = str(credentials.get("username") or credentials.get("email") or "")[:254]
        audit.record(audit_events.LOGIN_FAILED.code, request=request, details={"email": email})


@receiver(user_logged_out, dispatch_uid="audit_logout")
def record_logout(sender, request, user, **kwargs):
    if _served(request) and user is not None:
        audit.record(audit_events.LOGGED_OUT.code, request=request, actor=user)
