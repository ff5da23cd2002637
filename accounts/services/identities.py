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
The protocols (``accounts.sso``) hand over ``Claims`` or raise ``SsoRefused``.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts import audit_events, policy
from accounts.models import ExternalIdentity, IdentityProvider, Membership, Role, User
from accounts.services import invitations
from accounts.sso import config
from accounts.sso.claims import Claims, SsoRefused

SESSION_LINK_INTENT = "_sso_link_intent"
SESSION_INVITATION = "_sso_invitation"


def record_failure(
    *, provider: IdentityProvider, reason: str, http_request: HttpRequest | None
) -> None:
    audit.record(
        audit_events.SSO_FAILED.code,
        http_request=http_request,
        agency=provider.agency,
        details={"provider": provider.name, "reason": reason},
    )


def record_sso_login(
    *, provider: IdentityProvider, user: User, http_request: HttpRequest | None
) -> None:
    audit.record(
        audit_events.SSO_LOGIN.code,
        http_request=http_request,
        agency=provider.agency,
        actor=user,
        details={"provider": provider.name, "protocol": config.protocol(provider)},
    )


def _sync_role(
    provider: IdentityProvider,
    membership: Membership,
    role: str | None,
    *,
    http_request: HttpRequest,
) -> None:
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
        http_request=http_request,
        agency=membership.agency,
        actor=membership.user,
        target=membership,
        details={
            "provider": provider.name,
            "old_role": Role(old).label,
            "new_role": Role(role).label,
        },
    )


def _link(
    provider: IdentityProvider, user: User, subject: str, *, http_request: HttpRequest
) -> ExternalIdentity:
    identity = ExternalIdentity.objects.create(
        agency=provider.agency,
        provider=provider,
        subject=subject,
        user=user,
        last_used_at=timezone.now(),
    )
    audit.record(
        audit_events.SSO_LINKED.code,
        http_request=http_request,
        agency=provider.agency,
        actor=user,
        target=identity,
        details={"provider": provider.name},
    )
    return identity


def resolve(*, provider: IdentityProvider, claims: Claims, http_request: HttpRequest) -> User:
    """The portal user this identity signs in as, linking or creating where allowed.
    Raises SsoRefused otherwise, after recording why (outside the rolled-back savepoint)."""
    try:
        return _resolve(provider, claims, http_request=http_request)
    except SsoRefused as refusal:
        record_failure(provider=provider, reason=refusal.reason, http_request=http_request)
        raise


def _resolve(provider: IdentityProvider, claims: Claims, *, http_request: HttpRequest) -> User:
    agency = provider.agency
    if not provider.is_enabled:
        raise SsoRefused("provider turned off", "This sign-in option is turned off.")
    if not claims.subject:
        raise SsoRefused("no subject", "The sign-in service did not say who you are.")
    mapped_role = (
        config.role_from_groups(provider, claims.groups) if config.manages_roles(provider) else None
    )
    if config.manages_roles(provider) and mapped_role is None:
        raise SsoRefused(
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
            return _known(provider, identity, mapped_role, http_request=http_request)
        return _unknown(provider, claims, mapped_role, http_request=http_request)


def _known(
    provider: IdentityProvider,
    identity: ExternalIdentity,
    mapped_role: str | None,
    *,
    http_request: HttpRequest,
) -> User:
    user = identity.user
    if not user.is_active:
        raise SsoRefused("account disabled", "This account is turned off.")
    membership = Membership.objects.filter(agency=provider.agency, user=user).first()
    if membership is not None and not membership.is_active:
        raise SsoRefused(
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
            http_request=http_request,
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
        _sync_role(provider, membership, mapped_role, http_request=http_request)
    identity.last_used_at = timezone.now()
    identity.save(update_fields=["last_used_at"])
    return user


def _unknown(
    provider: IdentityProvider,
    claims: Claims,
    mapped_role: str | None,
    *,
    http_request: HttpRequest,
) -> User:
    agency = provider.agency
    session = http_request.session
    signed_in = http_request.user

    # 1. Linking from the account page by someone already signed in here.
    intent = session.get(SESSION_LINK_INTENT)
    if intent == str(provider.public_id) and signed_in.is_authenticated and signed_in.is_active:
        session.pop(SESSION_LINK_INTENT, None)
        _link(provider, signed_in, claims.subject, http_request=http_request)
        return signed_in

    # 2. Accepting an invitation through the agency's SSO.
    token = session.get(SESSION_INVITATION)
    if token:
        invitation, why = invitations.invitation_for_token(agency, token)
        if invitation is None:
            session.pop(SESSION_INVITATION, None)
            raise SsoRefused(f"invitation {why}", "That invitation link no longer works.")
        if not claims.email_verified or claims.email.lower() != invitation.email.lower():
            raise SsoRefused(
                "invitation for another address",
                f"This invitation was sent to a different address than the one your "
                f"{provider.name} account uses. Ask the person who invited you to send it to "
                "that address.",
            )
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            user = User.objects.create_user(invitation.email, None, full_name=claims.name[:200])
        session.pop(SESSION_INVITATION, None)
        invitations.invitation_accept(invitation=invitation, user=user, http_request=http_request)
        _link(provider, user, claims.subject, http_request=http_request)
        return user

    # 3. Accounts created by the agency's provider.
    role = mapped_role or provider.provision_role or None
    if role is None:
        raise SsoRefused(
            "unknown subject",
            f"You signed in with {provider.name}, but no account here is linked to it yet. "
            f"Ask an administrator of {agency.name} for an invitation.",
        )
    if not claims.email:
        raise SsoRefused(
            "no email address",
            f"{provider.name} did not share an email address, so no account can be made.",
        )
    if not claims.email_verified:
        # The account would be made for an address nobody has shown to be theirs.
        raise SsoRefused(
            "email not verified",
            f"{provider.name} has not verified your email address, so no account can be made "
            "with it. Ask an administrator for an invitation.",
        )
    if User.objects.filter(email__iexact=claims.email).exists():
        raise SsoRefused(
            "email already has an account",
            "An account with your email address already exists. Sign in with it, then link "
            f"{provider.name} from Account > Sign-in options, or ask an administrator for an "
            "invitation.",
        )
    user = User.objects.create_user(claims.email, None, full_name=claims.name[:200])
    Membership.objects.create(agency=agency, user=user, role=role)
    _link(provider, user, claims.subject, http_request=http_request)
    audit.record(
        audit_events.SSO_PROVISIONED.code,
        http_request=http_request,
        agency=agency,
        actor=user,
        target=user,
        details={"provider": provider.name, "role": Role(role).label},
    )
    return user


def identity_unlink(
    *, identity: ExternalIdentity, actor: User, http_request: HttpRequest | None = None
) -> None:
    """An admin removes a member's link to one of the agency's sign-in options."""
    with transaction.atomic():
        audit.record(
            audit_events.SSO_UNLINKED.code,
            http_request=http_request,
            agency=identity.agency,
            actor=actor,
            target=identity,
            details={"provider": identity.provider.name, "email": identity.user.email},
        )
        identity.delete()
