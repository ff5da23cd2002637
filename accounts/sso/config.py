"""What each kind of identity provider needs, and how its stored configuration becomes the
settings of the protocol library (django-allauth for OIDC and SAML, django-auth-ldap).

``IdentityProvider.settings`` keys by kind:
- google:    client_id, hosted_domain (the Workspace domain allowed in; required)
- microsoft: client_id, tenant_id (the agency's Entra tenant GUID; never common/organizations)
- oidc:      client_id, issuer, groups_claim (optional)
- saml:      idp_entity_id, idp_sso_url, idp_x509cert, email_attribute, name_attribute,
             groups_attribute (optional), subject_attribute (optional: the stable id when
             the IdP's NameID is not persistent)
- ldap:      server_uri, start_tls, bind_dn, user_search_base, user_filter, group_search_base,
             group_type (groupOfNames | activeDirectory), subject_attribute, email_attribute,
             name_attribute
- all:       role_mapping: [{"group": <group DN or claim value>, "role": <role>}, ...]

The client secret (OIDC) and bind password (LDAP) are sealed in ``sealed_secret``.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from django.urls import reverse

from accounts.models import IdentityProvider, ProviderKind, Role
from vault.keyring import SealError, open_sealed, seal

OIDC_KINDS = {ProviderKind.GOOGLE, ProviderKind.MICROSOFT, ProviderKind.OIDC}
GOOGLE_ISSUER = "https://accounts.google.com"
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
# Higher first: a person in several mapped groups gets the highest role among them.
ROLE_RANK = {Role.ADMIN: 4, Role.DEPARTMENT_ADMIN: 3, Role.PUBLISHER: 2, Role.STAFF: 1}


def protocol(provider: IdentityProvider) -> str:
    if provider.kind in OIDC_KINDS:
        return "oidc"
    return provider.kind


def set_secret(provider: IdentityProvider, secret: str) -> None:
    provider.sealed_secret = seal(secret.encode(), aad=provider.secret_aad)


def get_secret(provider: IdentityProvider) -> str:
    if not provider.sealed_secret:
        return ""
    try:
        return open_sealed(bytes(provider.sealed_secret), aad=provider.secret_aad).decode()
    except SealError:
        # A secret that cannot be opened (key removed, row tampered) is no secret at all:
        # the provider then fails to sign anyone in, and the settings page says so.
        return ""


def oidc_issuer(provider: IdentityProvider) -> str:
    data = provider.settings
    if provider.kind == ProviderKind.GOOGLE:
        return GOOGLE_ISSUER
    if provider.kind == ProviderKind.MICROSOFT:
        # The tenant-specific authority: its discovery document names the tenant's own
        # issuer, so tokens from any other tenant fail the issuer check.
        return f"{MICROSOFT_AUTHORITY}/{data['tenant_id']}/v2.0"
    return data["issuer"].rstrip("/")


def social_app(provider: IdentityProvider) -> SocialApp:
    """An unsaved allauth SocialApp for this provider (allauth's own table stays empty)."""
    data = provider.settings
    sub_id = str(provider.public_id)
    if provider.kind in OIDC_KINDS:
        auth_params = {"prompt": "select_account"}
        if provider.kind == ProviderKind.GOOGLE and data.get("hosted_domain"):
            auth_params["hd"] = data["hosted_domain"]
        return SocialApp(
            provider="openid_connect",
            provider_id=sub_id,
            name=provider.name,
            client_id=data.get("client_id", ""),
            secret=get_secret(provider),
            settings={
                "server_url": oidc_issuer(provider),
                "oauth_pkce_enabled": True,
                # Identity comes from the signed ID token only.
                "fetch_userinfo": False,
                "scope": ["openid", "email", "profile"],
                "auth_params": auth_params,
            },
        )
    if provider.kind == ProviderKind.SAML:
        mapping: dict[str, list[str]] = {"uid": [], "email": [], "first_name": []}
        if data.get("subject_attribute"):
            # Only the configured attribute: allauth's default list is not used.
            mapping["uid"].append(data["subject_attribute"])
        if data.get("email_attribute"):
            mapping["email"].append(data["email_attribute"])
        mapping["email"] += [
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            "urn:oid:0.9.2342.19200300.100.1.3",
            "email",
        ]
        return SocialApp(
            provider="saml",
            provider_id=sub_id,
            client_id=sub_id,
            name=provider.name,
            settings={
                "idp": {
                    "entity_id": data.get("idp_entity_id", ""),
                    "sso_url": data.get("idp_sso_url", ""),
                    "x509cert": data.get("idp_x509cert", ""),
                },
                "attribute_mapping": mapping,
                "advanced": {
                    "strict": True,
                    "want_assertion_signed": True,
                    "reject_idp_initiated_sso": True,
                    "reject_deprecated_algorithm": True,
                    "want_attribute_statement": False,
                    "want_name_id": True,
                    "allow_single_label_domains": True,
                },
            },
        )
    raise ValueError(f"{provider.kind} is not an allauth provider")


def sign_in_path(provider: IdentityProvider) -> str:
    """Where the "Sign in with ..." button posts to start the flow."""
    if protocol(provider) == "oidc":
        return reverse("accounts:oidc_login", kwargs={"provider_id": str(provider.public_id)})
    return reverse("saml_login", kwargs={"organization_slug": str(provider.public_id)})


def callback_path(provider: IdentityProvider) -> str:
    """What the agency registers at its identity provider (redirect URI / ACS URL)."""
    if protocol(provider) == "oidc":
        return reverse("accounts:oidc_callback", kwargs={"provider_id": str(provider.public_id)})
    return reverse("saml_acs", kwargs={"organization_slug": str(provider.public_id)})


def metadata_path(provider: IdentityProvider) -> str:
    return reverse("saml_metadata", kwargs={"organization_slug": str(provider.public_id)})


def role_from_groups(provider: IdentityProvider, groups: list[str]) -> str | None:
    """The highest role any of the person's groups maps to, or None."""
    wanted = {g.strip().lower() for g in groups if g}
    roles = [
        rule["role"]
        for rule in provider.settings.get("role_mapping", [])
        if rule.get("group", "").strip().lower() in wanted and rule.get("role") in ROLE_RANK
    ]
    return max(roles, key=lambda r: ROLE_RANK[r]) if roles else None


def manages_roles(provider: IdentityProvider) -> bool:
    """With a group mapping, the directory decides roles at every sign-in."""
    return bool(provider.settings.get("role_mapping"))
