from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string

from accounts.tasks import send_email


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
    Mail is queued once the transaction commits, so no lock (the audit chain's) is held
    while an SMTP server answers."""

    def save(self, *, request, **kwargs):
        port = request.get_port()
        kwargs["domain_override"] = settings.PORTAL_BASE_DOMAIN + (
            "" if port in ("80", "443") else f":{port}"
        )
        return super().save(request=request, **kwargs)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # Rendered now, sent by the worker: the response takes as long whether or not the
        # address has an account (no timing oracle), and SMTP never holds a request open.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        html_body = (
            render_to_string(html_email_template_name, context)
            if html_email_template_name
            else None
        )
        send_email.delay_on_commit(
            agency_id=None,
            subject=subject,
            body=body,
            to=[to_email],
            from_email=from_email,
            html_body=html_body,
        )
