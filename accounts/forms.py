"""Forms of the accounts app. Every form that sets a password runs the project's validators
(settings.AUTH_PASSWORD_VALIDATORS) against the account it is for, saved or not yet."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

import audit
from accounts import audit_events, jobs, signin
from accounts.models import SIGNIN_POLICY_FIELDS, Agency, Role, User

# Enough for any real password (the validators allow 256); bounds the hashing work.
_PASSWORD_INPUT_MAX = 1024


def _password_field(label: str, *, autocomplete: str, help_id: str = "") -> forms.CharField:
    attrs = {"autocomplete": autocomplete}
    if help_id:
        attrs["aria-describedby"] = help_id
    return forms.CharField(
        label=label,
        strip=False,
        max_length=_PASSWORD_INPUT_MAX,
        widget=forms.PasswordInput(attrs=attrs),
    )


class LoginForm(AuthenticationForm):
    # One message for a wrong password and an unknown email, so nobody learns who has an
    # account; plain language, and no claim of case sensitivity (email is not).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. "
        "Check them and try again.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["password"].max_length = _PASSWORD_INPUT_MAX
        self.fields["username"].max_length = 254

    def get_invalid_login_error(self):
        # Where staff may not use passwords, a wrong password gets the same words as a right
        # one refused (signin.password_refusal): no answer confirms a password.
        hint = signin.sso_only_message(getattr(self.request, "agency", None))
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
            method = signin.method_for_backend(getattr(user, "backend", ""))
            refusal = (
                signin.password_refusal(user, getattr(self.request, "agency", None))
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
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"}
        ),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label="The 6-digit code your app shows now",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReauthForm(forms.Form):
    """Prove it is still you: your password, or a two-factor code."""

    password = forms.CharField(
        label="Your password",
        required=False,
        strip=False,
        max_length=_PASSWORD_INPUT_MAX,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label="Or a code from your authenticator app",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("password") and not cleaned.get("code"):
            raise ValidationError("Enter your password or a code.")
        return cleaned


class _NewPasswordMixin:
    """password1 + password2, checked by every validator against ``self.password_user``."""

    password_user: User

    def clean_password2(self):
        first = self.cleaned_data.get("password1")
        second = self.cleaned_data.get("password2")
        if first and second and first != second:
            raise ValidationError("The two passwords don't match.")
        if second:
            password_validation.validate_password(second, self.password_user)
        return second


class SignupForm(_NewPasswordMixin, forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200, required=False)
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = _password_field(
        "Password", autocomplete="new-password", help_id="id_password1-rules"
    )
    password2 = _password_field("Password again", autocomplete="new-password")

    def clean_password2(self):
        # An unsaved account, so the validators can compare the password with the name and
        # address being registered.
        self.password_user = User(
            email=self.cleaned_data.get("email", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )
        return super().clean_password2()


class InvitationPasswordForm(_NewPasswordMixin, forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200)
    password1 = _password_field(
        "Password", autocomplete="new-password", help_id="id_password1-rules"
    )
    password2 = _password_field("Password again", autocomplete="new-password")

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password2(self):
        self.password_user = User(
            email=self.email, full_name=self.cleaned_data.get("full_name", "")
        )
        return super().clean_password2()


class PortalPasswordChangeForm(PasswordChangeForm):
    """Django's form: checks the old password, runs every validator on the new one."""


class PortalSetPasswordForm(SetPasswordForm):
    """Django's reset form: runs every validator on the new password."""


class NameForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200, required=False)


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="New email address", max_length=254)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class SignInPolicyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = list(SIGNIN_POLICY_FIELDS)
        help_texts = {
            "mfa_required_for_admins": "Strongly recommended. Admins can change everything.",
            "staff_password_login": "Turn off to make staff use single sign-on only. Residents "
            "always sign in with a password.",
            "sso_counts_as_mfa": "Your identity provider asks for its own second factor.",
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
        jobs.send_email(
            agency_id=None,
            subject=subject,
            body=body,
            to=[to_email],
            from_email=from_email,
            html_body=html_body,
        )
