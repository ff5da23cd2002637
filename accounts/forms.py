from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction


class LoginForm(AuthenticationForm):
    # One message for a wrong password and an unknown email, so nobody learns who has an
    # account; plain language, and no claim of case sensitivity (email is not).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. "
        "Check them and try again.",
    }


class PortalPasswordResetForm(PasswordResetForm):
    """Reset links always point at the platform's own domain, never at the agency host the
    form was sent from: users are global, and an agency's custom domain is DNS it controls.
    Mail is sent after the transaction commits, so no lock (the audit chain's) is held while
    an SMTP server answers."""

    def save(self, *, request, **kwargs):
        port = request.get_port()
        kwargs["domain_override"] = settings.PORTAL_BASE_DOMAIN + (
            "" if port in ("80", "443") else f":{port}"
        )
        return super().save(request=request, **kwargs)

    def send_mail(self, *args, **kwargs):
        send = super().send_mail
        transaction.on_commit(lambda: send(*args, **kwargs))
