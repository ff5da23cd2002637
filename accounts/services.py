"""Writes of the accounts app that touch several rows, each in one transaction with its audit
event (HackSoft style: ``<entity>_<action>(*, keyword, only)``). Email leaves after commit.

User administration rules kept here, not in views:
- nobody grants a role they could not hold themselves (``policy.grantable_roles``);
- the last active admin of an agency cannot be demoted or deactivated (the agency's admin
  rows are locked first, so two admins demoting each other at once cannot both succeed);
- deactivation ends the member's sessions on the agency's host at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import audit_events, jobs, mfa, policy, sessions
from accounts.models import (
    SIGNIN_POLICY_FIELDS,
    Agency,
    EmailChange,
    Invitation,
    Membership,
    PendingSignup,
    Role,
    User,
)
from accounts.tenancy import agency_origin, lock_tenant_row


class ServiceError(Exception):
    """A rule refused the change; the message is for the person who asked."""


class ServiceFieldError(ServiceError):
    """A refusal about one field of the form that asked (``field``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def new_token() -> tuple[str, str]:
    """A URL-safe random token (256 bits) and the SHA-256 digest that is all we store."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mail(*, agency: Agency | None, to: str, template: str, context: dict) -> None:
    subject = "".join(
        render_to_string(f"accounts/email/{template}_subject.txt", context).splitlines()
    )
    body = render_to_string(f"accounts/email/{template}.txt", context)
    jobs.send_email(agency_id=agency.pk if agency else None, subject=subject, body=body, to=[to])


def _role_label(role: str) -> str:
    return Role(role).label


def _actor_role(actor: User, agency: Agency) -> str | None:
    membership = policy.membership_for(actor, agency)
    return membership.role if membership else None


# --- Invitations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationSent:
    invitation: Invitation
    link: str


def _invitation_link(agency: Agency, token: str) -> str:
    return agency_origin(agency) + reverse("accounts:invitation_accept", args=[token])


def invitation_create(
    *, agency: Agency, actor: User, email: str, role: str, request=None
) -> InvitationSent:
    email = User.objects.normalize_email(email).strip()
    if role not in policy.grantable_roles(_actor_role(actor, agency)):
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
            http_request=request,
            agency=agency,
            actor=actor,
            target=invitation,
            details={"email": email, "role": _role_label(role)},
        )
        link = _invitation_link(agency, token)
        _mail(
            agency=agency,
            to=email,
            template="invitation",
            context={
                "agency": agency,
                "inviter": actor,
                "role": _role_label(role),
                "link": link,
                "minutes": settings.INVITATION_TIMEOUT // 60,
            },
        )
    return InvitationSent(invitation, link)


def invitation_resend(*, invitation: Invitation, actor: User, request=None) -> InvitationSent:
    """A new link (the old one stops working) with a fresh expiry."""
    if invitation.accepted_at is not None:
        raise ServiceError("That invitation was already accepted.")
    if invitation.role not in policy.grantable_roles(_actor_role(actor, invitation.agency)):
        raise ServiceError("You can't give someone a role above your own.")
    with transaction.atomic():
        token, digest = new_token()
        invitation.token_digest = digest
        invitation.expires_at = timezone.now() + timedelta(seconds=settings.INVITATION_TIMEOUT)
        invitation.revoked_at = None
        invitation.save(update_fields=["token_digest", "expires_at", "revoked_at"])
        audit.record(
            audit_events.INVITATION_RESENT.code,
            http_request=request,
            agency=invitation.agency,
            actor=actor,
            target=invitation,
            details={"email": invitation.email},
        )
        link = _invitation_link(invitation.agency, token)
        _mail(
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
        )
    return InvitationSent(invitation, link)


def invitation_revoke(*, invitation: Invitation, actor: User, request=None) -> None:
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if updated:
            audit.record(
                audit_events.INVITATION_REVOKED.code,
                http_request=request,
                agency=invitation.agency,
                actor=actor,
                target=invitation,
                details={"email": invitation.email},
            )


def invitation_for_token(agency: Agency, token: str) -> tuple[Invitation | None, str]:
    """(invitation, "") when the token is live here, else (None, why) for the audit log."""
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


def invitation_accept(*, invitation: Invitation, user: User, request=None) -> Membership:
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
        http_request=request,
        agency=agency,
        actor=user,
        target=membership,
        details={"email": user.email, "role": invitation.get_role_display()},
    )
    return membership


# --- Roles and deactivation ------------------------------------------------------------------


def _lock_admins(agency: Agency) -> list[Membership]:
    return list(
        Membership.objects.select_for_update()
        .filter(agency=agency, role=Role.ADMIN, is_active=True)
        .order_by("pk")
    )


def _refuse_removing_last_admin(admins: list[Membership], membership: Membership) -> None:
    if [m.pk for m in admins] == [membership.pk]:
        raise ServiceError(
            "This is the agency's only admin. Make someone else an admin first, so the agency "
            "is never left without one."
        )


def membership_change_role(
    *, membership: Membership, actor: User, role: str, request=None
) -> Membership:
    agency = membership.agency
    if role not in policy.grantable_roles(_actor_role(actor, agency)):
        raise ServiceError("You can't give someone a role above your own.")
    with transaction.atomic():
        # The admin rows first, then the member's: always in this order, so two admins
        # demoting each other wait for one another instead of deadlocking.
        admins = _lock_admins(agency)
        membership = lock_tenant_row(membership)
        if not membership.is_active:
            raise ServiceError("Reactivate this person before changing their role.")
        old = membership.role
        if old == role:
            return membership
        if old == Role.ADMIN:
            _refuse_removing_last_admin(admins, membership)
        membership.role = role
        membership.save(update_fields=["role"])
        policy.forget_membership(membership.user)
        audit.record(
            audit_events.ROLE_CHANGED.code,
            http_request=request,
            agency=agency,
            actor=actor,
            target=membership,
            details={
                "email": membership.user.email,
                "old": _role_label(old),
                "new": _role_label(role),
            },
        )
    return membership


def membership_deactivate(*, membership: Membership, actor: User, request=None) -> int:
    """Remove the member's role here and end their sessions on this agency's host at once.
    Returns how many sessions were ended."""
    agency = membership.agency
    with transaction.atomic():
        admins = _lock_admins(agency)  # before the member's row, as in a role change
        membership = lock_tenant_row(membership)
        if not membership.is_active:
            return 0
        if membership.role == Role.ADMIN:
            _refuse_removing_last_admin(admins, membership)
        membership.is_active = False
        membership.deactivated_at = timezone.now()
        membership.save(update_fields=["is_active", "deactivated_at"])
        policy.forget_membership(membership.user)
        ended = sessions.end_all(membership.user, reason="deactivated")
        audit.record(
            audit_events.USER_DEACTIVATED.code,
            http_request=request,
            agency=agency,
            actor=actor,
            target=membership,
            details={"email": membership.user.email, "sessions_ended": ended},
        )
    return ended


def membership_reactivate(*, membership: Membership, actor: User, request=None) -> None:
    if membership.role not in policy.grantable_roles(_actor_role(actor, membership.agency)):
        raise ServiceError("You can't give someone a role above your own.")
    with transaction.atomic():
        updated = Membership.objects.filter(
            agency=membership.agency_id, pk=membership.pk, is_active=False
        ).update(is_active=True, deactivated_at=None)
        if updated:
            policy.forget_membership(membership.user)
            audit.record(
                audit_events.USER_REACTIVATED.code,
                http_request=request,
                agency=membership.agency,
                actor=actor,
                target=membership,
                details={"email": membership.user.email},
            )


def member_sessions_end(*, membership: Membership, actor: User, request=None) -> int:
    with transaction.atomic():
        ended = sessions.end_all(membership.user, reason="ended by an admin")
        audit.record(
            audit_events.SESSIONS_ENDED.code,
            http_request=request,
            agency=membership.agency,
            actor=actor,
            target=membership,
            details={"email": membership.user.email, "count": ended},
        )
    return ended


def active_memberships_elsewhere(user: User, agency: Agency) -> int:
    """How many agencies other than ``agency`` the user actively works for. Row-level
    security shows those memberships only when the person is named (``person_context``):
    named here for this one count, then put back."""
    with sessions.person_context(user):
        return Membership.objects.filter(user=user, is_active=True).exclude(agency=agency).count()


def _refuse_if_shared_account(membership: Membership, what: str, instead: str) -> None:
    """Two-factor devices and lockout counters belong to the whole account, which other
    agencies rely on too: one agency's admin may not lift them for the others."""
    if active_memberships_elsewhere(membership.user, membership.agency):
        raise ServiceError(
            f"{membership.user.email} also works for another agency on this portal, and "
            f"{what} protects that work too, so it can't be changed from here. {instead}"
        )


def member_mfa_reset(*, membership: Membership, actor: User, request=None) -> None:
    """For a member who lost their phone and codes: they set two-factor up again at their
    next sign-in (the policy still requires it). Their sessions end too. Refused for someone
    who also works for another agency (their two-factor protects that agency too)."""
    _refuse_if_shared_account(
        membership,
        "their two-factor sign-in",
        "They can sign in with one of their recovery codes, or ask platform support to "
        "reset two-factor sign-in for them.",
    )
    with transaction.atomic():
        mfa.remove_all(membership.user)
        sessions.end_all(membership.user, reason="two-factor reset")
        audit.record(
            audit_events.MFA_RESET.code,
            http_request=request,
            agency=membership.agency,
            actor=actor,
            target=membership,
            details={"email": membership.user.email},
        )


def member_unlock(*, membership: Membership, actor: User, request=None) -> int:
    """Clear the member's failed sign-ins (every address). Refused for someone who also
    works for another agency: the lockout protects their account there too."""
    from accounts import lockout

    _refuse_if_shared_account(
        membership,
        "the sign-in lockout",
        "The lockout ends by itself after its cool-off, or platform support can lift it.",
    )
    with transaction.atomic():
        cleared = lockout.unlock(membership.user.email)
        audit.record(
            audit_events.UNLOCKED.code,
            http_request=request,
            agency=membership.agency,
            actor=actor,
            target=membership,
            details={"email": membership.user.email, "cleared": cleared},
        )
    return cleared


# --- Sign-in policy ----------------------------------------------------------------------------


def signin_policy_update(*, agency: Agency, actor: User, values: dict, request=None) -> Agency:
    from accounts.sso import linking

    with transaction.atomic():
        # The agency row is the tenant itself (resolved from the host by the middleware),
        # locked so two admins changing sign-in settings run one after the other.
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        if not values.get("staff_password_login", agency.staff_password_login):
            if not linking.enabled_providers(agency).exists():
                raise ServiceError(
                    "Add and turn on a single sign-on option before turning password sign-in "
                    "off, or nobody on staff could sign in."
                )
            if not linking.can_sign_in_without_password(actor, agency):
                raise ServiceError(
                    "Link your own account to the agency's single sign-on first (Account > "
                    "Sign-in options), or you would lock yourself out."
                )
        changed = {}
        for field in SIGNIN_POLICY_FIELDS:
            if field in values and getattr(agency, field) != values[field]:
                changed[field] = {"from": getattr(agency, field), "to": values[field]}
                setattr(agency, field, values[field])
        if changed:
            agency.full_clean()
            agency.save(update_fields=list(changed))
            audit.record(
                audit_events.SIGNIN_POLICY_CHANGED.code,
                http_request=request,
                agency=agency,
                actor=actor,
                details={"changes": changed},
            )
    return agency


# --- Own account -------------------------------------------------------------------------------


def password_changed(*, user: User, request, reset: bool = False) -> int:
    """After a change or a reset: end the user's other sessions on every host, and record
    it. (A reset signs nobody in, so it ends them all.)"""
    if not reset:
        # The change gave this session a new key; it is kept, so its row must follow.
        sessions.follow_key_change(request)
    ended = sessions.end_all(
        user,
        reason="password reset" if reset else "password changed",
        except_key=None if reset else request.session.session_key,
        everywhere=True,
    )
    if reset:
        audit.record(
            audit_events.PASSWORD_RESET_COMPLETED.code,
            http_request=request,
            actor=user,
            details={"sessions_ended": ended},
        )
        return ended
    audit.record(
        audit_events.PASSWORD_CHANGED.code,
        http_request=request,
        actor=user,
        details={"other_sessions_ended": ended},
    )
    return ended


def name_change(*, user: User, full_name: str, request) -> None:
    with transaction.atomic():
        user.full_name = full_name
        user.save(update_fields=["full_name"])
        audit.record(audit_events.NAME_CHANGED.code, http_request=request, actor=user)


def email_change_request(*, user: User, new_email: str, request) -> None:
    """Mail a confirmation link to the new address; the old one is told after the change.
    An address someone else uses gets a note instead, and the page looks the same."""
    new_email = User.objects.normalize_email(new_email).strip()
    with transaction.atomic():
        EmailChange.objects.filter(user=user, used_at__isnull=True).delete()
        audit.record(
            audit_events.EMAIL_CHANGE_REQUESTED.code,
            http_request=request,
            actor=user,
            details={"new_email": new_email},
        )
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            _mail(
                agency=getattr(request, "agency", None),
                to=new_email,
                template="email_change_taken",
                context={},
            )
            return
        token, digest = new_token()
        EmailChange.objects.create(
            user=user,
            new_email=new_email,
            token_digest=digest,
            expires_at=timezone.now() + timedelta(hours=1),
        )
        link = request.build_absolute_uri(reverse("accounts:email_change_confirm", args=[token]))
        _mail(
            agency=getattr(request, "agency", None),
            to=new_email,
            template="email_change",
            context={"link": link, "user": user},
        )


def email_change_confirm(*, user: User, token: str, request) -> bool:
    with transaction.atomic():
        change = (
            EmailChange.objects.select_for_update()
            .filter(user=user, token_digest=token_digest(token), used_at__isnull=True)
            .first()
        )
        if change is None or change.expires_at <= timezone.now():
            return False
        old_email = user.email
        try:
            with transaction.atomic():
                user.email = change.new_email
                user.save(update_fields=["email"])
        except IntegrityError:
            return False
        change.used_at = timezone.now()
        change.save(update_fields=["used_at"])
        audit.record(
            audit_events.EMAIL_CHANGED.code,
            http_request=request,
            actor=user,
            details={"old_email": old_email, "new_email": user.email},
        )
        _mail(
            agency=getattr(request, "agency", None),
            to=old_email,
            template="email_changed_notice",
            context={"new_email": user.email},
        )
    return True


# --- Resident sign-up -----------------------------------------------------------------------------


def signup_request(*, email: str, full_name: str, password: str, request) -> None:
    """Store the sign-up until the address is confirmed. The page that follows is the same
    whether or not the address already has an account (that owner gets a note instead)."""
    email = User.objects.normalize_email(email).strip()
    # Hashed whether or not the address is taken, so both answers take as long.
    password_hash = make_password(password)
    with transaction.atomic():
        audit.record(
            audit_events.SIGNUP_REQUESTED.code, http_request=request, details={"email": email}
        )
        if User.objects.filter(email__iexact=email).exists():
            _mail(
                agency=getattr(request, "agency", None),
                to=email,
                template="signup_exists",
                context={"login": request.build_absolute_uri(reverse("accounts:login"))},
            )
            return
        token, digest = new_token()
        PendingSignup.objects.filter(expires_at__lte=timezone.now()).delete()
        PendingSignup.objects.create(
            email=email,
            full_name=full_name,
            password=password_hash,
            token_digest=digest,
            expires_at=timezone.now() + timedelta(seconds=settings.SIGNUP_CONFIRMATION_TIMEOUT),
        )
        link = request.build_absolute_uri(reverse("accounts:signup_confirm", args=[token]))
        _mail(
            agency=getattr(request, "agency", None),
            to=email,
            template="signup_confirm",
            context={"link": link, "minutes": settings.SIGNUP_CONFIRMATION_TIMEOUT // 60},
        )


def signup_confirm(*, token: str, request) -> User | None:
    with transaction.atomic():
        pending = (
            PendingSignup.objects.select_for_update()
            .filter(token_digest=token_digest(token), expires_at__gt=timezone.now())
            .first()
        )
        if pending is None:
            audit.record(
                audit_events.SIGNUP_REFUSED.code,
                http_request=request,
                details={"reason": "unknown or expired link"},
            )
            return None
        pending.delete()
        try:
            with transaction.atomic():
                user = User.objects.create(
                    email=pending.email, full_name=pending.full_name, password=pending.password
                )
        except IntegrityError:
            # Someone created an account for this address in the meantime.
            return None
        audit.record(audit_events.SIGNUP_COMPLETED.code, http_request=request, actor=user)
    return user


def user_for_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def user_create_for_invitation(*, email: str, full_name: str, password: str, request) -> User:
    """A new account from an invitation link (the link proved the address). The password
    was checked by every validator in the form."""
    user = User.objects.create_user(email, password, full_name=full_name)
    audit.record(audit_events.SIGNUP_COMPLETED.code, http_request=request, actor=user)
    return user


# --- Sign-in options (identity providers) -------------------------------------------------------


def provider_save(
    *,
    agency: Agency,
    actor: User,
    kind: str,
    name: str,
    is_enabled: bool,
    provision_role: str,
    settings_data: dict,
    secret: str,
    provider=None,
    request=None,
):
    """Create or update a sign-in option; a new secret is sealed, an empty one keeps the old
    only while the option still talks to the same place as the same client: changing where
    it connects (``ENDPOINT_FIELDS``) without the secret again is refused, so a saved secret
    is never sent somewhere new. Turning off the last option of an SSO-only agency is
    refused."""
    from accounts.models import IdentityProvider
    from accounts.sso import config as sso_config

    with transaction.atomic():
        if provider is None:
            provider = IdentityProvider(agency=agency, kind=kind)
            created = True
        else:
            provider = lock_tenant_row(provider)
            created = False
            if not secret and provider.sealed_secret:
                _refuse_keeping_secret_for_new_endpoint(provider, settings_data)
        if not is_enabled and provider.is_enabled and not provider._state.adding:
            _refuse_losing_last_option(agency, provider)
        provider.name = name
        provider.is_enabled = is_enabled
        provider.provision_role = provision_role or ""
        provider.settings = settings_data
        provider.updated_at = timezone.now()
        if secret:
            sso_config.set_secret(provider, secret)
        provider.save()
        audit.record(
            (audit_events.PROVIDER_CREATED if created else audit_events.PROVIDER_UPDATED).code,
            http_request=request,
            agency=agency,
            actor=actor,
            target=provider,
            details={
                "name": name,
                "kind": kind,
                "enabled": is_enabled,
                "secret_changed": bool(secret),
                # What changed is kept, except secrets (never in the log).
                "settings": {k: v for k, v in settings_data.items() if k != "role_mapping"},
                "role_mapping": settings_data.get("role_mapping", []),
            },
        )
    return provider


# What decides where a sign-in option sends its secret, and to whom: changing any of these
# needs the secret typed again.
ENDPOINT_FIELDS = {
    "ldap": ("server_uri", "bind_dn", "start_tls"),
    "google": ("issuer", "client_id", "tenant_id", "hosted_domain"),
    "microsoft": ("issuer", "client_id", "tenant_id", "hosted_domain"),
    "oidc": ("issuer", "client_id", "tenant_id", "hosted_domain"),
}
_SECRET_NAMES = {"ldap": ("bind_password", "service account password")}


def _endpoint_value(value):
    return value if isinstance(value, bool) else str(value or "").strip()


def _refuse_keeping_secret_for_new_endpoint(provider, settings_data: dict) -> None:
    fields = ENDPOINT_FIELDS.get(provider.kind, ())
    old = provider.settings or {}
    changed = [
        f
        for f in fields
        if _endpoint_value(old.get(f, False if f == "start_tls" else ""))
        != _endpoint_value(settings_data.get(f, False if f == "start_tls" else ""))
    ]
    if changed:
        field, label = _SECRET_NAMES.get(provider.kind, ("client_secret", "client secret"))
        raise ServiceFieldError(
            field,
            f"You changed where this option connects ({', '.join(changed)}). Enter the "
            f"{label} again, so the saved one is never sent somewhere new.",
        )


def _refuse_losing_last_option(agency: Agency, provider) -> None:
    from accounts.sso import linking

    if agency.staff_password_login:
        return
    others = linking.enabled_providers(agency).exclude(pk=provider.pk)
    if not others.exists():
        raise ServiceError(
            "Staff can only sign in with single sign-on, and this is the last option. Turn "
            "password sign-in back on first."
        )


def provider_delete(*, provider, actor: User, request=None) -> None:
    with transaction.atomic():
        if provider.is_enabled:
            _refuse_losing_last_option(provider.agency, provider)
        audit.record(
            audit_events.PROVIDER_DELETED.code,
            http_request=request,
            agency=provider.agency,
            actor=actor,
            target=provider,
            details={"name": provider.name, "kind": provider.kind},
        )
        provider.delete()


def provider_tested(
    *, provider, actor: User, username: str, password_checked: bool, steps, request=None
) -> None:
    """Record a run of "Test these settings": the option, the person looked up, whether a
    password was tried (never the password) and whether each step passed."""
    audit.record(
        audit_events.PROVIDER_TESTED.code,
        http_request=request,
        agency=provider.agency,
        actor=actor,
        target=provider,
        details={
            "name": provider.name,
            "username": username[:200],
            "password_checked": password_checked,
            "steps": [bool(step.ok) for step in steps],
            "passed": bool(steps) and all(step.ok for step in steps),
        },
    )


def identity_unlink(*, identity, actor: User, request=None) -> None:
    with transaction.atomic():
        audit.record(
            audit_events.SSO_UNLINKED.code,
            http_request=request,
            agency=identity.agency,
            actor=actor,
            target=identity,
            details={"provider": identity.provider.name, "email": identity.user.email},
        )
        identity.delete()
