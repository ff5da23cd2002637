"""Forms of signing in: the sign-in form, two-factor codes, re-authentication, and the
password reset by email (request and new password)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

import audit
from accounts import audit_events, jobs, language
from accounts.forms import PASSWORD_INPUT_MAX
from accounts.signin import flow


class LoginForm(AuthenticationForm):
    # One message for a wrong password and an unknown email, so nobody learns who has an
    # account; plain language, and no claim of case sensitivity (email is not).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That email address and password do not match an account. Check them and try again."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # AuthenticationForm declares the password with no limit, and a max_length set after
        # the field is built adds no validator: the limit (which bounds the hashing work) is
        # added as a validator. (The username's 254 is already set by AuthenticationForm,
        # from the email field; the template writes its own inputs, so no widget attribute.)
        self.fields["password"].validators.append(MaxLengthValidator(PASSWORD_INPUT_MAX))

    def get_invalid_login_error(self):
        # Where staff may not use passwords, a wrong password gets the same words as a right
        # one refused (flow.password_refusal): no answer confirms a password.
        hint = flow.sso_only_message(getattr(self.request, "agency", None))
        if hint:
            return ValidationError(
                f"{self.error_messages['invalid_login']} {hint}", code="invalid_login"
            )
        return super().get_invalid_login_error()

    def clean(self):
        try:
            cleaned = super().clean()
        except ValidationError:
            refusal = getattr(self.request, "sso_refusal", None)
            if refusal:
                raise ValidationError(refusal, code="sso_refused") from None
            raise
        user = self.get_user()
        if user is not None:
            method = flow.method_for_backend(getattr(user, "backend", ""))
            refusal = (
                flow.password_refusal(user, getattr(self.request, "agency", None))
                if method == "password"
                else None
            )
            if refusal:
                audit.record(
                    audit_events.LOGIN_REFUSED.code,
                    http_request=self.request,
                    details={"email": user.email, "reason": "password sign-in turned off"},
                )
                raise ValidationError(
                    f"{self.error_messages['invalid_login']} {refusal}", code="invalid_login"
                )
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"}
        ),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code your app shows now"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReauthForm(forms.Form):
    """Prove it is still you: your password, or a two-factor code."""

    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        max_length=PASSWORD_INPUT_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Or a code from your authenticator app"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data  # what Form.clean() returns
        if not cleaned.get("password") and not cleaned.get("code"):
            raise ValidationError(_("Enter your password or a code."))
        return cleaned


class PortalSetPasswordForm(SetPasswordForm):
    """Django's reset form: runs every validator on the new password."""


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
        reader = language.of_user(context.get("user"), fallback=language.active())
        with translation.override(reader):
            subject = "".join(render_to_string(subject_template_name, context).splitlines())
            body = render_to_string(email_template_name, context)
            html_body = (
                render_to_string(html_email_template_name, context)
                if html_email_template_name
                else None
            )
        jobs.send_email(
            agency_id=None,
            subject=subject,
            body=body,
            to=[to_email],
            from_email=from_email,
            html_body=html_body,
        )
