"""Reads of support-access grants. An agency's admins see its grants; an operator sees only
their own, on the agency's host. Another agency's grant, or one the person may not see, is a
404 exactly like a missing one."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import policy
from accounts.models import Agency, AnyUser, Membership, Role, SupportGrant, User
from audit import selectors as audit_selectors

GRANT_TARGET = "accounts.supportgrant"


def is_operator(user: AnyUser) -> bool:
    """A platform operator: staff of the platform (``is_staff``), signed in and active."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def grants_for(user: AnyUser, agency: Agency) -> QuerySet[SupportGrant]:
    """Every grant of the agency, newest first (its admins)."""
    if not policy.can(user, agency, policy.SUPPORT_ACCESS_MANAGE):
        return SupportGrant.objects.none()
    return (
        SupportGrant.objects.filter(agency=agency)
        .select_related("operator", "decided_by", "ended_by")
        .order_by("-requested_at", "-pk")
    )


def get_grant_for(user: AnyUser, agency: Agency, grant_id: int) -> SupportGrant:
    grant = grants_for(user, agency).filter(pk=grant_id).first()
    if grant is None:
        raise Http404
    return grant


def grants_needing_attention(user: AnyUser, agency: Agency) -> list[SupportGrant]:
    """Requests waiting for an answer and grants live now: the admins' dashboard."""
    now = timezone.now()
    return [
        grant
        for grant in grants_for(user, agency).filter(
            status__in=[SupportGrant.Status.PENDING, SupportGrant.Status.ACTIVE]
        )
        if grant.status == SupportGrant.Status.PENDING or grant.is_live(now)
    ]


def operator_grants(user: AnyUser, agency: Agency) -> QuerySet[SupportGrant]:
    """The operator's own grants to this agency, newest first."""
    if not is_operator(user) or not isinstance(user, User):
        return SupportGrant.objects.none()
    return (
        SupportGrant.objects.filter(agency=agency, operator=user)
        .select_related("decided_by")
        .order_by("-requested_at", "-pk")
    )


def get_operator_grant(user: AnyUser, agency: Agency, grant_id: int) -> SupportGrant:
    grant = operator_grants(user, agency).filter(pk=grant_id).first()
    if grant is None:
        raise Http404
    return grant


def is_member(user: AnyUser, agency: Agency) -> bool:
    """Whether the user holds a real (not a support) membership in the agency."""
    if not isinstance(user, User):
        return False
    return Membership.objects.filter(agency=agency, user=user, is_active=True).exists()


def lapsed_grants(agency: Agency, operator: User | None = None) -> QuerySet[SupportGrant]:
    """Granted access whose time is up but whose end is not recorded yet."""
    grants = SupportGrant.objects.filter(
        agency=agency, status=SupportGrant.Status.ACTIVE, expires_at__lte=timezone.now()
    )
    return grants.filter(operator=operator) if operator is not None else grants


def admins_to_tell(agency: Agency) -> list[User]:
    """Who hears of support access: every active admin of the agency (each email is written
    in that admin's own language)."""
    memberships = Membership.objects.filter(
        agency=agency, role=Role.ADMIN, is_active=True, user__is_active=True
    ).select_related("user")
    return [m.user for m in memberships.order_by("user__email")]


def grant_life(
    user: AnyUser, agency: Agency, grant: SupportGrant
) -> list[audit_selectors.DescribedEvent]:
    """What happened to the grant and everything done under it, oldest first, as sentences
    (admins only: the caller fetched the grant through get_grant_for)."""
    if grant.agency_id != agency.pk or not policy.can(user, agency, policy.SUPPORT_ACCESS_MANAGE):
        return []
    events = audit_selectors.events_of_grant(agency.pk, grant.pk, grant_type=GRANT_TARGET)
    return audit_selectors.describe(events)


def grant_names(agency_id: int, grant_ids: Iterable[str]) -> dict[str, str]:
    """Grant id → "support access 7 (Ann Operator)", for the agency's audit log."""
    ids = [int(v) for v in grant_ids if str(v).isdigit()]
    rows = SupportGrant.objects.filter(agency_id=agency_id, pk__in=ids).select_related("operator")
    return {str(g.pk): f"support access {g.pk} ({g.operator})" for g in rows}
