"""Which portal account an external identity signs in to. One rule above all: accounts are
found by (provider, subject), never by email address alone.

An identity the portal has not seen is linked only when something else proves who it is:
- the person is already signed in to the portal and links it from their account page
  (after confirming who they are), or
- they arrived through an invitation link for this agency (which proves they read the
  invited mailbox) and the provider says the same address, or
- the agency lets its provider create accounts (``provision_role`` or a group mapping) and
  no portal account uses that address yet; if one does, sign-in is refused with a message
  explaining how to link it, because taking it over by email would be exactly the forbidden
  shortcut.

Everything here runs inside the request's transaction and writes its audit events there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

import audit
from accounts import audit_events, policy
from accounts.models import (
    Agency,
    ExternalIdentity,
    IdentityProvider,
    Membership,
    Role,
    User,
)
from accounts.sso import config

SESSION_LINK_INTENT = "_sso_link_intent"
SESSION_INVITATION = "_sso_invitation"


@dataclass
class Claims:
    """What a provider said about the person, normalised across protocols."""

    subject: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    groups: list[str] = field(default_factory=list)


class SsoRefused(Exception):
    """Sign-in through the provider succeeded but the portal will not sign this person in.
    ``reason`` goes to the audit log; ``message`` to the person (plain, non-revealing)."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


def enabled_providers(agency: Agency):
    return IdentityProvider.objects.filter(agency=agency, is_enabled=True).order_by("name")


def can_sign_in_without_password(user: User, agency: Agency) -> bool:
    return ExternalIdentity.objects.filter(
        agency=agency, user=user, provider__is_enabled=True
    ).exists()


def _refuse(request, provider: IdentityProvider, reason: str, message: str):
    raise SsoRefused(reason, message)


def record_failure(request, provider: IdentityProvider, reason: str) -> None:
    audit.record(
        audit_events.SSO_FAILED.code,
        http_request=request,
        agency=provider.agency,
        details={"provider": provider.name, "reason": reason},
    )


def _sync_role(request, provider, membership: Membership, role: str | None) -> None:
    """With a group mapping the directory decides the role at every sign-in. The last admin
    is never demoted this way (the agency would be left without one)."""
    if role is None or membership.role == role:
        return
    if membership.role == Role.ADMIN:
        other_admins = (
            Membership.objects.select_for_update()
            .filter(agency=membership.agency, role=Role.ADMIN, is_active=True)
            .exclude(pk=membership.pk)
        )
        if not other_admins.exists():
            return
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    policy.forget_membership(membership.user)
    audit.record(
        audit_events.SSO_ROLE_SYNCED.code,
        http_request=request,
        agency=membership.agency,
        actor=membership.user,
        target=membership,
        details={
            "provider": provider.name,
            "old_role": Role(old).label,
            "new_role": Role(role).label,
        },
    )


def _link(request, provider, user: User, subject: str) -> ExternalIdentity:
    identity = ExternalIdentity.objects.create(
        agency=provider.agency,
        provider=provider,
        subject=subject,
        user=user,
        last_used_at=timezone.now(),
    )
    audit.record(
        audit_events.SSO_LINKED.code,
        http_request=request,
        agency=provider.agency,
        actor=user,
        target=identity,
        details={"provider": provider.name},
    )
    return identity


def resolve(request, provider: IdentityProvider, claims: Claims) -> User:
    """The portal user this identity signs in as, linking or creating where allowed.
    Raises SsoRefused otherwise, after recording why (outside the rolled-back savepoint)."""
    try:
        return _resolve(request, provider, claims)
    except SsoRefused as refusal:
        record_failure(request, provider, refusal.reason)
        raise


def _resolve(request, provider: IdentityProvider, claims: Claims) -> User:
    agency = provider.agency
    if not provider.is_enabled:
        _refuse(request, provider, "provider turned off", "This sign-in option is turned off.")
    if not claims.subject:
        _refuse(request, provider, "no subject", "The sign-in service did not say who you are.")
    mapped_role = (
        config.role_from_groups(provider, claims.groups) if config.manages_roles(provider) else None
    )
    if config.manages_roles(provider) and mapped_role is None:
        _refuse(
            request,
            provider,
            "not in a mapped group",
            f"Your organisation account is not in a group that has access to {agency.name}'s "
            "staff area. Ask your administrator.",
        )

    with transaction.atomic():
        identity = (
            ExternalIdentity.objects.select_for_update()
            .select_related("user")
            .filter(agency=agency, provider=provider, subject=claims.subject)
            .first()
        )
        if identity is not None:
            return _known(request, provider, identity, mapped_role)
        return _unknown(request, provider, claims, mapped_role)


def _known(request, provider, identity: ExternalIdentity, mapped_role: str | None) -> User:
    user = identity.user
    if not user.is_active:
        _refuse(request, provider, "account disabled", "This account is turned off.")
    membership = Membership.objects.filter(agency=provider.agency, user=user).first()
    if membership is not None and not membership.is_active:
        _refuse(
            request,
            provider,
            "membership deactivated",
            f"Your access to {provider.agency.name}'s staff area was turned off. "
            "Ask an administrator if this is a mistake.",
        )
    if membership is None and mapped_role is not None:
        # A linked person the directory's groups now give a role here: a new staff member,
        # recorded like any account the provider provisions.
        membership = Membership.objects.create(agency=provider.agency, user=user, role=mapped_role)
        policy.forget_membership(user)
        audit.record(
            audit_events.SSO_PROVISIONED.code,
            http_request=request,
            agency=provider.agency,
            actor=user,
            target=membership,
            details={
                "provider": provider.name,
                "role": Role(mapped_role).label,
                "existing_account": True,
            },
        )
    elif membership is not None:
        _sync_role(request, provider, membership, mapped_role)
    identity.last_used_at = timezone.now()
    identity.save(update_fields=["last_used_at"])
    return user


def _unknown(request, provider, claims: Claims, mapped_role: str | None) -> User:
    from accounts import services

    agency = provider.agency
    session = request.session

    # 1. Linking from the account page by someone already signed in here.
    intent = session.get(SESSION_LINK_INTENT)
    if (
        intent == str(provider.public_id)
        and request.user.is_authenticated
        and request.user.is_active
    ):
        session.pop(SESSION_LINK_INTENT, None)
        _link(request, provider, request.user, claims.subject)
        return request.user

    # 2. Accepting an invitation through the agency's SSO.
    token = session.get(SESSION_INVITATION)
    if token:
        invitation, why = services.invitation_for_token(agency, token)
        if invitation is None:
            session.pop(SESSION_INVITATION, None)
            _refuse(request, provider, f"invitation {why}", "That invitation link no longer works.")
        if not claims.email_verified or claims.email.lower() != invitation.email.lower():
            _refuse(
                request,
                provider,
                "invitation for another address",
                f"This invitation was sent to a different address than the one your "
                f"{provider.name} account uses. Ask the person who invited you to send it to "
                "that address.",
            )
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            user = User.objects.create_user(invitation.email, None, full_name=claims.name[:200])
        session.pop(SESSION_INVITATION, None)
        services.invitation_accept(invitation=invitation, user=user, request=request)
        _link(request, provider, user, claims.subject)
        return user

    # 3. Accounts created by the agency's provider.
    role = mapped_role or provider.provision_role or None
    if role is None:
        _refuse(
            request,
            provider,
            "unknown subject",
            f"You signed in with {provider.name}, but no account here is linked to it yet. "
            f"Ask an administrator of {agency.name} for an invitation.",
        )
    if not claims.email:
        _refuse(
            request,
            provider,
            "no email address",
            f"{provider.name} did not share an email address, so no account can be made.",
        )
    if not claims.email_verified:
        # The account would be made for an address nobody has shown to be theirs.
        _refuse(
            request,
            provider,
            "email not verified",
            f"{provider.name} has not verified your email address, so no account can be made "
            "with it. Ask an administrator for an invitation.",
        )
    if User.objects.filter(email__iexact=claims.email).exists():
        _refuse(
            request,
            provider,
            "email already has an account",
            "An account with your email address already exists. Sign in with it, then link "
            f"{provider.name} from Account > Sign-in options, or ask an administrator for an "
            "invitation.",
        )
    user = User.objects.create_user(claims.email, None, full_name=claims.name[:200])
    Membership.objects.create(agency=agency, user=user, role=role)
    _link(request, provider, user, claims.subject)
    audit.record(
        audit_events.SSO_PROVISIONED.code,
        http_request=request,
        agency=agency,
        actor=user,
        target=user,
        details={"provider": provider.name, "role": Role(role).label},
    )
    return user


def record_sso_login(request, provider: IdentityProvider, user: User) -> None:
    audit.record(
        audit_events.SSO_LOGIN.code,
        http_request=request,
        agency=provider.agency,
        actor=user,
        details={"provider": provider.name, "protocol": config.protocol(provider)},
    )
