"""Audit event types recorded by the accounts app."""

from audit.registry import register

LOGIN_SUCCEEDED = register("auth.login", "{actor} signed in")
LOGIN_FAILED = register("auth.login_failed", "Failed sign-in attempt for {email}")
LOGGED_OUT = register("auth.logout", "{actor} signed out")
PASSWORD_RESET_REQUESTED = register(
    "auth.password_reset_requested", "Password reset requested for {email}"
)
PASSWORD_RESET_COMPLETED = register("auth.password_reset_completed", "{actor} reset their password")
PAGE_VIEWED = register("page.view", "{actor} opened {view} ({status})")
