"""Forms for an agency admin's sign-in options (identity providers)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography import x509
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import IdentityProvider, ProviderKind, Role
from accounts.sso import endpoints

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

_ROLE_CHOICES = [("", _("Nobody: invitations only"))] + [(r.value, r.label) for r in Role]
_MAPPING_LINE = re.compile(r"^\s*(?P<group>.+?)\s*=\s*(?P<role>[a-z_]+)\s*$")


def _refuse_internal_host(host: str) -> None:
    """The portal will connect to this host: in production, never to itself, the cloud's
    metadata service or other link-local addresses (accounts.sso.endpoints)."""
    try:
        endpoints.refuse_internal_host(host)
    except endpoints.UnsafeEndpoint as error:
        raise ValidationError(str(error)) from None


def _https_url(value: str) -> None:
    try:
        endpoints.https_url(value)
    except endpoints.UnsafeEndpoint as error:
        raise ValidationError(str(error)) from None


def parse_role_mapping(text: str) -> list[dict]:
    rules = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _MAPPING_LINE.match(line)
        if match is None or match["role"] not in Role.values:
            raise ValidationError(
                gettext(
                    "Line %(number)s: write one group per line as 'group = role', where role "
                    "is one of %(roles)s."
                )
                % {"number": number, "roles": ", ".join(Role.values)}
            )
        rules.append({"group": match["group"], "role": match["role"]})
    return rules


def role_mapping_text(rules: list[dict]) -> str:
    return "\n".join(f"{rule['group']} = {rule['role']}" for rule in rules or [])


class ProviderForm(forms.Form):
    """Fields shared by every kind; ``KIND_FIELDS`` adds the kind's own."""

    name = forms.CharField(
        label=_("Name people will recognise"),
        max_length=80,
        help_text=_(
            'For example "City email". The sign-in button then says "Sign in with City email".'
        ),
    )
    is_enabled = forms.BooleanField(label=_("Turned on"), required=False, initial=True)
    provision_role = forms.ChoiceField(
        label=_("Create accounts for new people with this role"),
        choices=_ROLE_CHOICES,
        required=False,
        help_text=_(
            "People the provider vouches for but who have no account here yet. Leave "
            "empty to let in only people you invite or who link their account."
        ),
    )
    role_mapping = forms.CharField(
        label=_("Roles from groups"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Optional. One per line: 'group = role' (roles: admin, department_admin, "
            "publisher, staff). When set, the groups decide each person's role at every sign-in, "
            "and people in none of them are refused."
        ),
    )

    def __init__(self, *args, kind: str, provider: IdentityProvider | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.provider = provider
        for name, field in KIND_FIELDS[kind]().items():
            self.fields[name] = field
        secret = SECRET_FIELD.get(kind)
        if secret and provider is not None and provider.sealed_secret:
            self.fields[secret].required = False
            self.fields[secret].help_text = gettext("Saved. Leave empty to keep it.")
        if provider is not None:
            self.initial.update(provider.settings)
            self.initial.update(
                {
                    "name": provider.name,
                    "is_enabled": provider.is_enabled,
                    "provision_role": provider.provision_role,
                    "role_mapping": role_mapping_text(provider.settings.get("role_mapping")),
                }
            )

    def clean_role_mapping(self):
        return parse_role_mapping(self.cleaned_data.get("role_mapping", ""))

    def clean(self):
        cleaned = super().clean()
        if self.kind == ProviderKind.LDAP:
            LdapProviderChecks.clean(self)
        return cleaned

    def provider_settings(self) -> dict:
        data = {
            key: value
            for key, value in self.cleaned_data.items()
            if key not in ("name", "is_enabled", "provision_role", SECRET_FIELD.get(self.kind))
        }
        return data

    def secret(self) -> str:
        field = SECRET_FIELD.get(self.kind)
        return self.cleaned_data.get(field) or "" if field else ""


def _secret_field(label: str | _StrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


def _google_fields() -> dict:
    return {
        "client_id": forms.CharField(label=_("Client ID"), max_length=255),
        "client_secret": _secret_field(_("Client secret")),
        "hosted_domain": forms.CharField(
            label=_("Google Workspace domain"),
            max_length=253,
            help_text=_("Only accounts of this domain get in, e.g. springfield.gov."),
            validators=[_domain],
        ),
    }


def _domain(value: str) -> None:
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.[a-z]{2,}", value.lower()):
        raise ValidationError(gettext("Enter a domain name such as springfield.gov."))


def _tenant_id(value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValidationError(
            gettext(
                "Enter your Directory (tenant) ID: a GUID like "
                "72f988bf-86f1-41af-91ab-2d7cd011db47. 'common' and 'organizations' would let "
                "in any Microsoft account."
            )
        ) from None


def _microsoft_fields() -> dict:
    return {
        "client_id": forms.CharField(label=_("Application (client) ID"), max_length=255),
        "client_secret": _secret_field(_("Client secret")),
        "tenant_id": forms.CharField(
            label=_("Directory (tenant) ID"), max_length=36, validators=[_tenant_id]
        ),
        "groups_claim": forms.CharField(
            label=_("Groups claim"), max_length=80, required=False, initial="groups"
        ),
    }


def _oidc_fields() -> dict:
    return {
        "issuer": forms.CharField(
            label=_("Issuer URL"),
            max_length=500,
            validators=[_https_url],
            help_text=_("The provider's issuer; /.well-known/openid-configuration is added."),
        ),
        "client_id": forms.CharField(label=_("Client ID"), max_length=255),
        "client_secret": _secret_field(_("Client secret")),
        "groups_claim": forms.CharField(
            label=_("Groups claim"), max_length=80, required=False, initial="groups"
        ),
    }


def _certificate(value: str) -> None:
    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----|\s", "", value or "")
    pem = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise ValidationError(
            gettext("Paste the identity provider's signing certificate.")
        ) from None


def _saml_fields() -> dict:
    return {
        "idp_entity_id": forms.CharField(label=_("Identity provider entity ID"), max_length=500),
        "idp_sso_url": forms.CharField(
            label=_("Single sign-on URL"), max_length=500, validators=[_https_url]
        ),
        "idp_x509cert": forms.CharField(
            label=_("Signing certificate"),
            widget=forms.Textarea(attrs={"rows": 6}),
            validators=[_certificate],
        ),
        "email_attribute": forms.CharField(
            label=_("Email attribute"),
            max_length=200,
            required=False,
            initial="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        ),
        "name_attribute": forms.CharField(
            label=_("Name attribute"),
            max_length=200,
            required=False,
            initial="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        ),
        "groups_attribute": forms.CharField(
            label=_("Groups attribute"),
            max_length=200,
            required=False,
            initial="http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        ),
        "subject_attribute": forms.CharField(
            label=_("Stable id attribute"),
            max_length=200,
            required=False,
            help_text=_(
                "Optional. The attribute that names each person for good, e.g. "
                "http://schemas.microsoft.com/identity/claims/objectidentifier for Entra ID. "
                "Leave empty when your identity provider sends a persistent NameID; an email "
                "address is not a stable id and is refused."
            ),
        ),
    }


def _ldap_uri(value: str) -> None:
    """Exactly one ldap:// or ldaps:// server (python-ldap would take a space-separated list
    and try each in turn, past the host check and the STARTTLS rule)."""
    try:
        endpoints.check_ldap_server(value)
    except endpoints.UnsafeEndpoint as error:
        raise ValidationError(str(error)) from None


def _user_filter(value: str) -> None:
    if "%(user)s" not in value or not (value.startswith("(") and value.endswith(")")):
        raise ValidationError(
            gettext(
                "Write an LDAP filter in parentheses containing %(user)s, e.g. (uid=%(user)s) "
                "or (sAMAccountName=%(user)s)."
            )
        )


def _ldap_fields() -> dict:
    return {
        "server_uri": forms.CharField(
            label=_("Server address"),
            max_length=500,
            validators=[_ldap_uri],
            help_text=_("ldaps://dc1.city.local:636, or ldap:// with STARTTLS below."),
        ),
        "start_tls": forms.BooleanField(label=_("Use STARTTLS"), required=False),
        "bind_dn": forms.CharField(label=_("Service account (bind DN)"), max_length=500),
        "bind_password": _secret_field(_("Service account password")),
        "user_search_base": forms.CharField(
            label=_("Where to find people (base DN)"), max_length=500
        ),
        "user_filter": forms.CharField(
            label=_("Person filter"),
            max_length=500,
            initial="(sAMAccountName=%(user)s)",
            validators=[_user_filter],
        ),
        "group_search_base": forms.CharField(
            label=_("Where to find groups (base DN)"), max_length=500, required=False
        ),
        "group_type": forms.ChoiceField(
            label=_("Group type"),
            choices=[
                ("activeDirectory", _("Active Directory")),
                ("groupOfNames", "groupOfNames"),
            ],
            initial="activeDirectory",
        ),
        "subject_attribute": forms.CharField(
            label=_("Stable id attribute"),
            max_length=80,
            initial="objectGUID",
            help_text=_("objectGUID for Active Directory, entryUUID for OpenLDAP."),
        ),
        "email_attribute": forms.CharField(
            label=_("Email attribute"), max_length=80, initial="mail"
        ),
        "name_attribute": forms.CharField(
            label=_("Name attribute"), max_length=80, initial="displayName"
        ),
    }


KIND_FIELDS: dict[str, Callable[[], dict[str, forms.Field]]] = {
    ProviderKind.GOOGLE: _google_fields,
    ProviderKind.MICROSOFT: _microsoft_fields,
    ProviderKind.OIDC: _oidc_fields,
    ProviderKind.SAML: _saml_fields,
    ProviderKind.LDAP: _ldap_fields,
}
SECRET_FIELD: dict[str, str] = {
    ProviderKind.GOOGLE: "client_secret",
    ProviderKind.MICROSOFT: "client_secret",
    ProviderKind.OIDC: "client_secret",
    ProviderKind.LDAP: "bind_password",
}


class LdapProviderChecks:
    """Cross-field rule for LDAP: passwords never cross the network in the clear."""

    @staticmethod
    def clean(form: ProviderForm) -> None:
        uri = form.cleaned_data.get("server_uri")
        if not uri:
            return  # refused by its own validator
        scheme, host = endpoints.ldap_server(uri)
        if endpoints.plain_ldap_refused(scheme, host, bool(form.cleaned_data.get("start_tls"))):
            form.add_error(
                "start_tls",
                gettext("Use ldaps:// or turn on STARTTLS: passwords must be encrypted."),
            )


class LdapTestForm(forms.Form):
    username = forms.CharField(label=_("A username to look up"), max_length=200)
    password = forms.CharField(
        label=_("Their password (optional: checks a sign-in too)"),
        required=False,
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(render_value=False),
    )
