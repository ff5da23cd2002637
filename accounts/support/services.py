"""Writes of support access, each in one transaction with its audit event; email leaves
after commit.

The life of a grant: an operator asks (pending) → an admin approves (active from that
moment for the asked duration) or denies; or the operator starts emergency access (active at
once, at most EMERGENCY_MAX_MINUTES, every admin emailed). An active grant ends when its time
is up (recorded by the first request or page that notices), when an admin revokes it, or
when the operator ends it. Only a live grant gives access (accounts.policy.membership_for
checks the clock on every request), so recording the expiry late never extends it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import language, policy
from accounts.models import Agency, SupportGrant, SupportRole, User
from accounts.services._shared import mail
from accounts.services.errors import ServiceError, ServiceFieldError
from accounts.support import access
from accounts.support import events as support_events
from accounts.tenancy import agency_origin, lock_tenant_row

MAX_MINUTES = 24 * 60
EMERGENCY_MAX_MINUTES = 4 * 60


def _hours(minutes: int) -> str:
    hours = minutes / 60
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def _check_ask(
    *, agency: Agency, operator: User, role: str, reason: str, minutes: int, limit: int
) -> str:
    if not access.is_operator(operator):
        raise ServiceError("Only platform operators can ask for support access.")
    if access.is_member(operator, agency):
        raise ServiceError("You work for this agency: use your own role here.")
    if role not in SupportRole.values:
        raise ServiceFieldError("role", "Choose one of the roles offered.")
    reason = reason.strip()
    if not reason:
        raise ServiceFieldError("reason", "Say why you need access.")
    if not 1 <= minutes <= limit:
        raise ServiceFieldError("hours", f"Support access can last at most {_hours(limit)}.")
    return reason


def _grant_link(grant: SupportGrant) -> str:
    return agency_origin(grant.agency) + reverse("staff:support_grant", args=[grant.pk])


def _tell_admins(grant: SupportGrant, *, template: str) -> None:
    """One email to each active admin of the agency (never one list of all addresses)."""
    context = {"grant": grant, "agency": grant.agency, "link": _grant_link(grant)}
    for admin in access.admins_to_tell(grant.agency):
        mail(
            agency=grant.agency,
            to=admin.email,
            template=template,
            context=context,
            language=language.of_user(admin),
        )


def _tell_operator(grant: SupportGrant, *, template: str) -> None:
    link = agency_origin(grant.agency) + reverse("accounts:support_request")
    context = {"grant": grant, "agency": grant.agency, "link": link}
    mail(
        agency=grant.agency,
        to=grant.operator.email,
        template=template,
        context=context,
        language=language.of_user(grant.operator),
    )


def _asked_details(grant: SupportGrant) -> dict[str, object]:
    return {
        "role": grant.get_role_display(),
        "minutes": grant.duration_minutes,
        "reason": grant.reason,
    }


def _one_at_a_time(operator: User) -> None:
    """Serialise one operator's asks (a double click, a retried post): the second waits for
    the first to commit, then finds its grant and is refused."""
    User.objects.select_for_update().filter(pk=operator.pk).first()


def support_grant_request(
    *,
    agency: Agency,
    operator: User,
    role: str,
    reason: str,
    duration_minutes: int,
    http_request: HttpRequest | None = None,
) -> SupportGrant:
    """An operator asks the agency's admins for access; they are emailed."""
    reason = _check_ask(
        agency=agency,
        operator=operator,
        role=role,
        reason=reason,
        minutes=duration_minutes,
        limit=MAX_MINUTES,
    )
    with transaction.atomic():
        _one_at_a_time(operator)
        if SupportGrant.objects.filter(
            agency=agency, operator=operator, status=SupportGrant.Status.PENDING
        ).exists():
            raise ServiceError("You already have a request waiting here: withdraw it first.")
        grant = SupportGrant.objects.create(
            agency=agency,
            operator=operator,
            role=role,
            reason=reason,
            duration_minutes=duration_minutes,
        )
        audit.record_for(
            support_events.REQUESTED,
            grant,
            actor=operator,
            http_request=http_request,
            **_asked_details(grant),
        )
        _tell_admins(grant, template="support_requested")
    return grant


def support_emergency_start(
    *,
    agency: Agency,
    operator: User,
    role: str,
    reason: str,
    duration_minutes: int,
    http_request: HttpRequest | None = None,
) -> SupportGrant:
    """Break-glass: access at once without approval, for at most EMERGENCY_MAX_MINUTES and
    read-only (nobody approved more); every admin of the agency is emailed and sees it on
    their dashboard."""
    if role != SupportRole.READ_ONLY:
        raise ServiceFieldError(
            "role", "Emergency access is read-only. For more, ask the agency's admins."
        )
    reason = _check_ask(
        agency=agency,
        operator=operator,
        role=role,
        reason=reason,
        minutes=duration_minutes,
        limit=EMERGENCY_MAX_MINUTES,
    )
    now = timezone.now()
    with transaction.atomic():
        _one_at_a_time(operator)
        live = SupportGrant.objects.filter(
            agency=agency,
            operator=operator,
            status=SupportGrant.Status.ACTIVE,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        if live.exists():
            # A second press of the emergency button (or a retried post) must not open a
            # second grant nor email every admin again.
            raise ServiceError("You already have support access here: end it first.")
        grant = SupportGrant.objects.create(
            agency=agency,
            operator=operator,
            role=role,
            reason=reason,
            duration_minutes=duration_minutes,
            is_emergency=True,
            status=SupportGrant.Status.ACTIVE,
            requested_at=now,
            starts_at=now,
            expires_at=now + timedelta(minutes=duration_minutes),
            first_used_at=now,
        )
        audit.record_for(
            support_events.EMERGENCY_STARTED,
            grant,
            actor=operator,
            http_request=http_request,
            **_asked_details(grant),
        )
        _tell_admins(grant, template="support_emergency")
    policy.forget_membership(operator)
    return grant


def _decide(grant: SupportGrant, actor: User) -> SupportGrant:
    if not policy.can(actor, grant.agency, policy.SUPPORT_ACCESS_MANAGE):
        raise ServiceError("Only the agency's admins answer support access requests.")
    if actor.pk == grant.operator_id:
        raise ServiceError("Nobody answers their own request.")
    locked = lock_tenant_row(grant)
    if locked.status != SupportGrant.Status.PENDING:
        raise ServiceError("This request was already answered or withdrawn.")
    return locked


def support_grant_approve(
    *, grant: SupportGrant, actor: User, http_request: HttpRequest | None = None
) -> SupportGrant:
    """Access starts now and lasts the duration asked for."""
    with transaction.atomic():
        grant = _decide(grant, actor)
        now = timezone.now()
        grant.status = SupportGrant.Status.ACTIVE
        grant.decided_by = actor
        grant.decided_at = now
        grant.starts_at = now
        grant.expires_at = now + timedelta(minutes=grant.duration_minutes)
        grant.save(update_fields=["status", "decided_by", "decided_at", "starts_at", "expires_at"])
        audit.record_for(
            support_events.APPROVED,
            grant,
            actor=actor,
            http_request=http_request,
            minutes=grant.duration_minutes,
            until=grant.expires_at.isoformat(),
        )
        _tell_operator(grant, template="support_approved")
    return grant


def support_grant_deny(
    *, grant: SupportGrant, actor: User, note: str = "", http_request: HttpRequest | None = None
) -> SupportGrant:
    with transaction.atomic():
        grant = _decide(grant, actor)
        grant.status = SupportGrant.Status.DENIED
        grant.decided_by = actor
        grant.decided_at = timezone.now()
        grant.decision_note = note.strip()
        grant.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record_for(
            support_events.DENIED,
            grant,
            actor=actor,
            http_request=http_request,
            note=grant.decision_note,
        )
        _tell_operator(grant, template="support_denied")
    return grant


def support_grant_end(
    *, grant: SupportGrant, actor: User, http_request: HttpRequest | None = None
) -> SupportGrant:
    """An admin revokes a grant, or the operator ends theirs (or withdraws a request still
    waiting). Access ends at once: the next request finds no live grant."""
    is_operator = actor.pk == grant.operator_id
    if not is_operator and not policy.can(actor, grant.agency, policy.SUPPORT_ACCESS_MANAGE):
        raise ServiceError("Only the agency's admins and the operator can end support access.")
    with transaction.atomic():
        grant = lock_tenant_row(grant)
        pending = grant.status == SupportGrant.Status.PENDING
        if pending and not is_operator:
            raise ServiceError("This request is still waiting: deny it instead.")
        if grant.status not in (SupportGrant.Status.PENDING, SupportGrant.Status.ACTIVE):
            raise ServiceError("This support access has already ended.")
        if grant.expires_at is not None and grant.expires_at <= timezone.now():
            _record_expiry(grant)
            return grant
        if pending:
            reason, event = "withdrawn", support_events.WITHDRAWN
        elif is_operator:
            reason, event = "ended", support_events.ENDED
        else:
            reason, event = "revoked", support_events.REVOKED
        grant.status = SupportGrant.Status.ENDED
        grant.ended_at = timezone.now()
        grant.ended_by = actor
        grant.end_reason = reason
        grant.save(update_fields=["status", "ended_at", "ended_by", "end_reason"])
        audit.record_for(event, grant, actor=actor, http_request=http_request)
    policy.forget_membership(grant.operator)
    return grant


def support_grant_mark_used(
    *, grant: SupportGrant, http_request: HttpRequest | None = None
) -> None:
    """The operator's first request under an approved grant: the moment access began."""
    with transaction.atomic():
        updated = SupportGrant.objects.filter(
            agency=grant.agency_id, pk=grant.pk, first_used_at__isnull=True
        ).update(first_used_at=timezone.now())
        if updated:
            audit.record_for(
                support_events.STARTED, grant, actor=grant.operator_id, http_request=http_request
            )


def _record_expiry(grant: SupportGrant) -> None:
    grant.status = SupportGrant.Status.ENDED
    grant.ended_at = grant.expires_at
    grant.end_reason = "expired"
    grant.save(update_fields=["status", "ended_at", "end_reason"])
    audit.record_for(
        support_events.EXPIRED,
        grant,
        expired_at=grant.expires_at.isoformat() if grant.expires_at else "",
    )


def support_grants_close_lapsed(*, agency: Agency, operator: User | None = None) -> int:
    """Record the end of every grant whose time is up (of one operator, or all); returns
    how many. Access already ended at the expiry: this only writes it down."""
    with transaction.atomic():
        lapsed = list(access.lapsed_grants(agency, operator).select_for_update())
        for grant in lapsed:
            _record_expiry(grant)
    return len(lapsed)
