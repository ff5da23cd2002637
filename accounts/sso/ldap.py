"""LDAP / Active Directory sign-in through django-auth-ldap, configured per agency.

django-auth-ldap reads one global configuration from settings; here each agency's enabled
LDAP ``IdentityProvider`` becomes its own settings object, used only on that agency's host.
The directory checks the password (search as the bind account, then bind as the person);
the portal then finds the account by (provider, subject) through ``identities.resolve``, never
by the directory's email. The subject is a stable id attribute (``entryUUID`` for OpenLDAP,
``objectGUID`` for Active Directory), falling back to the DN.

Group memberships map to roles when the agency configured a mapping. A refusal (unknown
person, no mapped group) fails the sign-in like a wrong password, but the sign-in page shows
the reason, which only someone who knows the directory password can see.
"""

from __future__ import annotations

import binascii

import ldap
from django_auth_ldap.backend import LDAPBackend
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    LDAPSearch,
    LDAPSettings,
)

from accounts.models import IdentityProvider, ProviderKind, User
from accounts.services import identities
from accounts.sso import config, endpoints
from accounts.sso.claims import Claims, SsoRefused

LDAP_TIMEOUT_SECONDS = 5


def _first(attrs, name: str) -> str:
    values = attrs.get(name) or attrs.get(name.lower()) or []
    if not values:
        return ""
    value = values[0]
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            # objectGUID is 16 raw bytes: compare it as hex.
            return binascii.hexlify(value).decode()
    return str(value)


def ldap_settings(provider: IdentityProvider) -> LDAPSettings:
    data = provider.settings
    # A prefix no setting uses: every value below comes from the agency's configuration.
    settings = LDAPSettings(prefix="PORTAL_AGENCY_LDAP_UNUSED_")
    settings.SERVER_URI = data["server_uri"]
    settings.START_TLS = bool(data.get("start_tls"))
    settings.BIND_DN = data.get("bind_dn", "")
    settings.BIND_PASSWORD = config.get_secret(provider)
    # "+" asks for operational attributes too (entryUUID is one). The search's own list is
    # the one that counts: django-auth-ldap keeps the attributes the person search returned
    # and reads USER_ATTRLIST only when it has no search.
    settings.USER_SEARCH = LDAPSearch(
        data["user_search_base"], ldap.SCOPE_SUBTREE, data["user_filter"], ["*", "+"]
    )
    settings.USER_ATTRLIST = ["*", "+"]
    if data.get("group_search_base"):
        active_directory = data.get("group_type") == "activeDirectory"
        settings.GROUP_SEARCH = LDAPSearch(
            data["group_search_base"],
            ldap.SCOPE_SUBTREE,
            "(objectClass=group)" if active_directory else "(objectClass=groupOfNames)",
        )
        settings.GROUP_TYPE = ActiveDirectoryGroupType() if active_directory else GroupOfNamesType()
    settings.ALWAYS_UPDATE_USER = False
    settings.CACHE_TIMEOUT = 0
    settings.CONNECTION_OPTIONS = {
        ldap.OPT_NETWORK_TIMEOUT: LDAP_TIMEOUT_SECONDS,
        ldap.OPT_TIMEOUT: LDAP_TIMEOUT_SECONDS,
        ldap.OPT_REFERRALS: 0,
    }
    return settings


class _ProviderBackend(LDAPBackend):
    """django-auth-ldap for one agency's directory."""

    def __init__(self, provider: IdentityProvider, request):
        self.provider = provider
        self.request = request
        self.settings = ldap_settings(provider)

    def get_or_build_user(self, username, ldap_user):
        data = self.provider.settings
        subject_attribute = data.get("subject_attribute") or "entryUUID"
        claims = Claims(
            subject=_first(ldap_user.attrs, subject_attribute) or ldap_user.dn.lower(),
            email=_first(ldap_user.attrs, data.get("email_attribute") or "mail"),
            email_verified=True,
            name=_first(ldap_user.attrs, data.get("name_attribute") or "cn"),
            groups=list(ldap_user.group_dns) if self.settings.GROUP_SEARCH else [],
        )
        try:
            user = identities.resolve(
                provider=self.provider, claims=claims, http_request=self.request
            )
        except SsoRefused as refusal:
            # Shown on the sign-in page instead of the generic message.
            self.request.sso_refusal = refusal.message
            raise ldap_user.AuthenticationFailed(refusal.reason) from None
        return user, False


class AgencyLDAPBackend:
    """Tries the LDAP directories of the host's agency. Elsewhere (the platform domain, an
    agency without LDAP) it does nothing, so the portal's own passwords decide."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        agency = getattr(request, "agency", None)
        if agency is None or not username or not password:
            return None
        providers = IdentityProvider.objects.filter(
            agency=agency, kind=ProviderKind.LDAP, is_enabled=True
        ).select_related("agency")
        for provider in providers:
            try:
                # Checked again right before connecting: the saved address must still be
                # one server the portal may reach (see accounts.sso.endpoints).
                endpoints.check_ldap_connection(provider.settings)
            except endpoints.UnsafeEndpoint as error:
                identities.record_failure(
                    provider=provider,
                    reason=f"server address refused: {error}",
                    http_request=request,
                )
                continue
            user = _ProviderBackend(provider, request).authenticate(
                request, username=username, password=password
            )
            if user is not None:
                request.ldap_provider = provider
                return user
        return None

    def get_user(self, user_id):
        # Later requests need no directory round trip: the session already proved who it is.
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None
