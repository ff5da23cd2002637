"""Staff invitations: send, resend, withdraw, and accept (by a signed-in person, or with a
new account the invitation link vouches for).

Nobody invites someone to a role they could not hold themselves (``policy.grantable_roles``).
One live invitation per address and agency: a new one replaces the old link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import audit_events, language, policy
from accounts.models import Agency, Invitation, Membership, User
from accounts.services._shared import actor_role, mail, new_token, role_label, token_digest
from accounts.services.errors import ServiceError
from accounts.tenancy import agency_origin


@dataclass(frozen=True)
class InvitationSent:
    invitation: Invitation
    link: str


def _invitation_link(agency: Agency, token: str) -> str:
    return agency_origin(agency) + reverse("accounts:invitation_accept", args=[token])


def _invitee_language(email: str) -> str:
    """Staff notices: the invitee's own language if they have an account, else the default."""
    return language.of_user(User.objects.filter(email__iexact=email).first())


def invitation_create(
    *,
    agency: Agency,
    actor: User,
    email: str,
    role: str,
    http_request: HttpRequest | None = None,
) -> InvitationSent:
    email = User.objects.normalize_email(email).strip()
    if role not in policy.grantable_roles(actor_role(actor, agency)):
        raise ServiceError("You can't give someone a role above your own.")
    with transaction.atomic():
        existing = Membership.objects.filter(
            agency=agency, user__email__iexact=email, is_active=True
        ).first()
        if existing is not None:
            raise ServiceError(f"{email} already works here as {existing.get_role_display()}.")
        # One live invitation per address: a new one replaces the old link.
        Invitation.objects.filter(
            agency=agency,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=timezone.now())
        token, digest = new_token()
        invitation = Invitation.objects.create(
            agency=agency,
            email=email,
            role=role,
            token_digest=digest,
            invited_by=actor,
            expires_at=timezone.now() + timedelta(seconds=settings.INVITATION_TIMEOUT),
        )
        audit.record(
            audit_events.USER_INVITED.code,
            http_request=http_request,
            agency=agency,
            actor=actor,
            target=invitation,
            details={"email": email, "role": role_label(role)},
        )
        link = _invitation_link(agency, token)
        mail(
            agency=agency,
            to=email,
            template="invitation",
            context={
                "agency": agency,
                "inviter": actor,
                "role": role_label(role),
                "link": link,
                "minutes": settings.INVITATION_TIMEOUT // 60,
            },
            language=_invitee_language(email),
        )
    return InvitationSent(invitation, link)


def invitation_resend(
    *, invitation: Invitation, actor: User, http_request: HttpRequest | None = None
) -> InvitationSent:
    """A new link (the old one stops working) with a fresh expiry."""
    if invitation.accepted_at is not None:
        raise ServiceError("That invitation was already accepted.")
    if invitation.role not in policy.grantable_roles(actor_role(actor, invitation.agency)):
        raise ServiceError("You can't give someone a role above your own.")
    with transaction.atomic():
        token, digest = new_token()
        invitation.token_digest = digest
        invitation.expires_at = timezone.now() + timedelta(seconds=settings.INVITATION_TIMEOUT)
        invitation.revoked_at = None
        invitation.save(update_fields=["token_digest", "expires_at", "revoked_at"])
        audit.record(
            audit_events.INVITATION_RESENT.code,
            http_request=http_request,
            agency=invitation.agency,
            actor=actor,
            target=invitation,
            details={"email": invitation.email},
        )
        link = _invitation_link(invitation.agency, token)
        mail(
            agency=invitation.agency,
            to=invitation.email,
            template="invitation",
            context={
                "agency": invitation.agency,
                "inviter": actor,
                "role": invitation.get_role_display(),
                "link": link,
                "minutes": settings.INVITATION_TIMEOUT // 60,
            },
            language=_invitee_language(invitation.email),
        )
    return InvitationSent(invitation, link)


def invitation_revoke(
    *, invitation: Invitation, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if updated:
            audit.record(
                audit_events.INVITATION_REVOKED.code,
                http_request=http_request,
                agency=invitation.agency,
                actor=actor,
                target=invitation,
                details={"email": invitation.email},
            )


def invitation_for_token(agency: Agency, token: str) -> tuple[Invitation | None, str]:
    """(invitation, "") when the token is live here, else (None, why) for the audit log.
    The invitation's row stays locked until the caller's transaction ends (single use)."""
    invitation = (
        Invitation.objects.select_for_update()
        .filter(agency=agency, token_digest=token_digest(token))
        .first()
    )
    if invitation is None:
        return None, "unknown link"
    if invitation.accepted_at is not None:
        return None, "already used"
    if invitation.revoked_at is not None:
        return None, "withdrawn"
    if invitation.expires_at <= timezone.now():
        return None, "expired"
    return invitation, ""


def invitation_accept(
    *, invitation: Invitation, user: User, http_request: HttpRequest | None = None
) -> Membership:
    """Join the agency with the invited role. Call inside the transaction that found the
    invitation with ``invitation_for_token`` (its row is locked: single use)."""
    agency = invitation.agency
    membership, created = Membership.objects.get_or_create(
        agency=agency, user=user, defaults={"role": invitation.role}
    )
    if not created:
        membership.role = invitation.role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    policy.forget_membership(user)
    audit.record(
        audit_events.INVITATION_ACCEPTED.code,
        http_request=http_request,
        agency=agency,
        actor=user,
        target=membership,
        details={"email": user.email, "role": invitation.get_role_display()},
    )
    return membership


def invitation_accept_with_new_account(
    *, invitation: Invitation, full_name: str, password: str, http_request: HttpRequest
) -> User:
    """A new account for the invited address (the link proved the address), which then joins
    the agency. The password was checked by every validator in the form. Call inside the
    transaction that found the invitation, as for ``invitation_accept``."""
    with transaction.atomic():
        user = User.objects.create_user(invitation.email, password, full_name=full_name)
        audit.record(audit_events.SIGNUP_COMPLETED.code, http_request=http_request, actor=user)
        invitation_accept(invitation=invitation, user=user, http_request=http_request)
    return user
