"""SAML 2.0 on allauth's provider (python3-saml underneath), tightened for the portal.

python3-saml, in strict mode with ``wantAssertionsSigned``, refuses unsigned, tampered and
wrongly-addressed responses (signature, Destination, Recipient, Audience, validity window).
allauth checks InResponseTo against the AuthnRequest it sent (state in the session) and
refuses IdP-initiated responses. Added here: each assertion id is accepted once
(``SamlAssertionUse``), so a captured response cannot be posted again, even within its
validity window and even from a session that still holds matching state.

The subject that keys the account (``ExternalIdentity``) must be stable: the option's
``subject_attribute`` when the admin configured one (e.g. Entra's objectidentifier), else a
*persistent* NameID. allauth would fall back to any NameID, and an emailAddress or
unspecified one would key accounts by an address that can be re-assigned: refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from allauth.socialaccount.internal import statekit
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from allauth.socialaccount.providers.saml.views import FinishACSView
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import IdentityProvider, SamlAssertionUse
from accounts.sso.claims import Claims, SsoRefused

_KEEP_WITHOUT_EXPIRY = timedelta(hours=24)
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


class PortalSAMLProvider(SAMLProvider):
    def unstash_redirect_state(self, request, state_id):
        # allauth's own version raises PermissionDenied when no request of this session
        # matches (a replayed or expired response); answer an empty state instead, so the
        # adapter refuses it with its own reason and message (pre_social_login).
        return statekit.unstash_state(request, state_id=state_id, provider_id=self.sub_id) or {}

    def sociallogin_from_response(self, request, response):
        sociallogin = super().sociallogin_from_response(request, response)
        # The OneLogin auth object is gone after this call: keep what replay and role
        # checks need on the sociallogin, which reaches the adapter in this same request.
        sociallogin.saml_assertion = {
            "id": response.get_last_assertion_id() or "",
            "not_on_or_after": response.get_last_assertion_not_on_or_after(),
            "attributes": response.get_attributes() or {},
            "name_id_format": response.get_nameid_format() or "",
        }
        return sociallogin


class PortalFinishACSView(FinishACSView):
    def get_provider(self, organization_slug):
        return PortalSAMLProvider(self.request, app=self.get_app(organization_slug))


finish_acs = PortalFinishACSView.as_view()


def consume_assertion(provider: IdentityProvider, assertion: dict) -> None:
    """Record the assertion id; a second use raises SsoRefused."""
    assertion_id = (assertion or {}).get("id") or ""
    if not assertion_id:
        raise SsoRefused("assertion without id", "That sign-in response was not valid.")
    not_on_or_after = assertion.get("not_on_or_after")
    expires = (
        datetime.fromtimestamp(not_on_or_after, tz=UTC)
        if not_on_or_after
        else timezone.now() + _KEEP_WITHOUT_EXPIRY
    )
    try:
        with transaction.atomic():
            SamlAssertionUse.objects.create(
                agency=provider.agency,
                provider=provider,
                assertion_id=assertion_id[:255],
                expires_at=expires,
            )
    except IntegrityError:
        raise SsoRefused("assertion replayed", "That sign-in response was already used.") from None


def _subject(provider: IdentityProvider, sociallogin, first) -> str:
    """The stable id of the person (see the module docstring), or SsoRefused."""
    attribute = (provider.settings.get("subject_attribute") or "").strip()
    if attribute:
        subject = first(attribute)
        if not subject:
            raise SsoRefused(
                "subject attribute missing",
                f"{provider.name} did not send the attribute that identifies you. Ask your "
                "agency's administrator to check the sign-in option's stable id attribute.",
            )
        return subject
    name_id_format = getattr(sociallogin, "saml_assertion", {}).get("name_id_format") or ""
    if name_id_format != NAMEID_PERSISTENT:
        raise SsoRefused(
            "subject is not persistent",
            f"{provider.name} identified you by an address or another name that can change, "
            "not by a stable id, so the portal can't tell whether you are the same person "
            "next time. Your agency's administrator should make the identity provider send a "
            "persistent NameID, or set the sign-in option's stable id attribute.",
        )
    return str(sociallogin.account.uid or "")


def claims_from(provider: IdentityProvider, sociallogin) -> Claims:
    data = provider.settings
    attributes = getattr(sociallogin, "saml_assertion", {}).get("attributes", {})

    def first(name: str) -> str:
        values = attributes.get(name) or []
        return str(values[0]) if values else ""

    subject = _subject(provider, sociallogin, first)

    common = sociallogin.account.extra_data or {}
    email = first(data["email_attribute"]) if data.get("email_attribute") else ""
    email = email or str(getattr(sociallogin.user, "email", "") or "")
    name = first(data["name_attribute"]) if data.get("name_attribute") else ""
    groups = attributes.get(data["groups_attribute"], []) if data.get("groups_attribute") else []
    return Claims(
        subject=subject,
        email=email if "@" in email else "",
        email_verified=True,  # the agency's own IdP, signed assertion
        name=name or str(common.get("name") or ""),
        groups=[str(g) for g in groups],
    )
