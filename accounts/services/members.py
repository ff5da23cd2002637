"""An agency admin's changes to the people who work there: roles, deactivation, ending their
sessions, lifting a lockout, resetting two-factor.

- nobody grants a role they could not hold themselves (``policy.grantable_roles``);
- the last active admin of an agency cannot be demoted or deactivated (the agency's admin
  rows are locked first, so two admins demoting each other at once cannot both succeed);
- deactivation ends the member's sessions on the agency's host at once;
- two-factor devices and lockout counters belong to the whole account: one agency's admin
  may not lift them for someone who also works for another agency.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts import audit_events, policy
from accounts.models import Agency, Membership, Role, User
from accounts.services._shared import actor_role, role_label
from accounts.services.errors import ServiceError
from accounts.signin import lockout, mfa, sessions
from accounts.tenancy import lock_tenant_row
from audit.registry import EventType


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
    *, membership: Membership, actor: User, role: str, http_request: HttpRequest | None = None
) -> Membership:
    agency = membership.agency
    if role not in policy.grantable_roles(actor_role(actor, agency)):
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
            http_request=http_request,
            agency=agency,
            actor=actor,
            target=membership,
            details={
                "email": membership.user.email,
                "old": role_label(old),
                "new": role_label(role),
            },
        )
    return membership


def membership_deactivate(
    *, membership: Membership, actor: User, http_request: HttpRequest | None = None
) -> int:
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
            http_request=http_request,
            agency=agency,
            actor=actor,
            target=membership,
            details={"email": membership.user.email, "sessions_ended": ended},
        )
    return ended


def membership_reactivate(
    *, membership: Membership, actor: User, http_request: HttpRequest | None = None
) -> None:
    if membership.role not in policy.grantable_roles(actor_role(actor, membership.agency)):
        raise ServiceError("You can't give someone a role above your own.")
    with transaction.atomic():
        updated = Membership.objects.filter(
            agency=membership.agency_id, pk=membership.pk, is_active=False
        ).update(is_active=True, deactivated_at=None)
        if updated:
            policy.forget_membership(membership.user)
            _record(
                audit_events.USER_REACTIVATED, membership, actor=actor, http_request=http_request
            )


def member_sessions_end(
    *, membership: Membership, actor: User, http_request: HttpRequest | None = None
) -> int:
    with transaction.atomic():
        ended = sessions.end_all(membership.user, reason="ended by an admin")
        _record(
            audit_events.SESSIONS_ENDED,
            membership,
            actor=actor,
            http_request=http_request,
            count=ended,
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


def member_mfa_reset(
    *, membership: Membership, actor: User, http_request: HttpRequest | None = None
) -> None:
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
        _record(audit_events.MFA_RESET, membership, actor=actor, http_request=http_request)


def member_unlock(
    *, membership: Membership, actor: User, http_request: HttpRequest | None = None
) -> int:
    """Clear the member's failed sign-ins (every address). Refused for someone who also
    works for another agency: the lockout protects their account there too."""
    _refuse_if_shared_account(
        membership,
        "the sign-in lockout",
        "The lockout ends by itself after its cool-off, or platform support can lift it.",
    )
    with transaction.atomic():
        cleared = lockout.unlock(membership.user.email)
        _record(
            audit_events.UNLOCKED,
            membership,
            actor=actor,
            http_request=http_request,
            cleared=cleared,
        )
    return cleared


def _record(
    event: EventType,
    membership: Membership,
    *,
    actor: User,
    http_request: HttpRequest | None,
    **details: object,
) -> None:
    """An admin's change to a member: on the agency's chain, always naming the person."""
    audit.record_for(
        event,
        membership,
        actor=actor,
        http_request=http_request,
        email=membership.user.email,
        **details,
    )
