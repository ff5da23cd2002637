"""Forms of the accounts app (sign-up, invitation acceptance, own account, agency admin);
the sign-in forms are in accounts.signin.forms, the sign-in options' in provider_forms.
Every form that sets a password runs the project's validators
(settings.AUTH_PASSWORD_VALIDATORS) against the account it is for, saved or not yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.contact import phone_uri, validate_public_phone
from accounts.models import CONTACT_FIELDS, SIGNIN_POLICY_FIELDS, Agency, Role, User

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# Enough for any real password (the validators allow 256); bounds the hashing work.
PASSWORD_INPUT_MAX = 1024


def _password_field(
    label: str | _StrPromise, *, autocomplete: str, help_id: str = ""
) -> forms.CharField:
    attrs = {"autocomplete": autocomplete}
    if help_id:
        attrs["aria-describedby"] = help_id
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_INPUT_MAX,
        widget=forms.PasswordInput(attrs=attrs),
    )


class _NewPasswordMixin:
    """password1 + password2, checked by every validator against ``self.password_user``."""

    password_user: User
    cleaned_data: dict[str, Any]  # provided by the form class this is mixed into

    def clean_password2(self):
        first = self.cleaned_data.get("password1")
        second = self.cleaned_data.get("password2")
        if first and second and first != second:
            raise ValidationError(gettext("The two passwords don't match."))
        if second:
            password_validation.validate_password(second, self.password_user)
        return second


class SignupForm(_NewPasswordMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = _password_field(
        _("Password"), autocomplete="new-password", help_id="id_password1-rules"
    )
    password2 = _password_field(_("Password again"), autocomplete="new-password")

    def clean_password2(self):
        # An unsaved account, so the validators can compare the password with the name and
        # address being registered.
        self.password_user = User(
            email=self.cleaned_data.get("email", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )
        return super().clean_password2()


class InvitationPasswordForm(_NewPasswordMixin, forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    password1 = _password_field(
        _("Password"), autocomplete="new-password", help_id="id_password1-rules"
    )
    password2 = _password_field(_("Password again"), autocomplete="new-password")

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


class NameForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200, required=False)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("Your phone number"), max_length=40, required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not phone_uri(phone):
            raise forms.ValidationError(
                _(
                    "Enter a phone number of 7 to 15 digits, such as (312) 555-0100 or "
                    "+1 312 555 0100 (an extension may follow as “ext. 12”)."
                ),
                code="invalid_phone",
            )
        return phone


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("New email address"), max_length=254)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        # cast: self.fields holds the declared ChoiceField, typed as any Field.
        cast(forms.ChoiceField, self.fields["role"]).choices = [(r, Role(r).label) for r in roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        # cast: self.fields holds the declared ChoiceField, typed as any Field.
        cast(forms.ChoiceField, self.fields["role"]).choices = [(r, Role(r).label) for r in roles]


class SignInPolicyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = list(SIGNIN_POLICY_FIELDS)
        help_texts = {
            "mfa_required_for_admins": _("Strongly recommended. Admins can change everything."),
            "staff_password_login": _(
                "Turn off to make staff use single sign-on only. Residents always sign in with "
                "a password."
            ),
            "sso_counts_as_mfa": _("Your identity provider asks for its own second factor."),
        }


class AgencyContactForm(forms.Form):
    """The agency's public contact details and notices (every field optional). A plain form
    rather than a ModelForm: validating must not write into the agency the page is for."""

    contact_phone = forms.CharField(
        label=_("Public phone number"),
        max_length=40,
        required=False,
        validators=[validate_public_phone],
        help_text=_(
            "Such as (312) 555-0100 or +1 312 555 0100; an extension may follow as "
            "“ext. 12”. Shown on every page as a link that phones can call."
        ),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    contact_email = forms.EmailField(
        label=_("Public email address"),
        max_length=254,
        required=False,
        help_text=_("Such as records@example.gov: a shared mailbox rather than a person's."),
        error_messages={"invalid": _("Enter an email address such as records@example.gov.")},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    contact_address = forms.CharField(
        label=_("Office or postal address"),
        max_length=500,
        required=False,
        help_text=_("Where people can visit or write to you. Lines are kept as typed."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    office_hours = forms.CharField(
        label=_("Office hours"),
        max_length=500,
        required=False,
        help_text=_("Such as “Monday to Friday, 8 AM to 4:30 PM, closed on holidays”."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    privacy_notice = forms.CharField(
        label=_("Privacy notice"),
        max_length=20000,
        required=False,
        help_text=_(
            "What you do with the information people give you. Plain text: leave an empty line "
            "between paragraphs. Web addresses and HTML tags are shown as typed, not as links or "
            "formatting."
        ),
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    accessibility_statement = forms.CharField(
        label=_("Accessibility statement"),
        max_length=20000,
        required=False,
        help_text=_(
            "How accessible this portal and your records are, and how to ask for another "
            "format. Plain text: leave an empty line between paragraphs. Web addresses and HTML "
            "tags are shown as typed, not as links or formatting."
        ),
        widget=forms.Textarea(attrs={"rows": 12}),
    )

    @classmethod
    def for_agency(cls, agency: Agency, data=None) -> AgencyContactForm:
        return cls(data, initial={f: getattr(agency, f) for f in CONTACT_FIELDS})
