"""Tenant-scoped reads of accounts data. Views reach memberships only through these.

Another agency's membership, or one the user may not see, raises Http404: exactly what a
missing one does, so nobody learns what exists elsewhere.
"""

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import (
    Agency,
    AnyUser,
    ExternalIdentity,
    FormSubmission,
    IdentityProvider,
    Invitation,
    Membership,
    ProviderKind,
    User,
    UserSession,
)


def memberships_for(user: AnyUser, agency: Agency) -> QuerySet[Membership]:
    if not policy.can(user, agency, policy.USERS_VIEW):
        return Membership.objects.none()
    return (
        Membership.objects.filter(agency=agency)
        .select_related("user")
        .order_by("-is_active", "user__email")
    )


def get_membership_for(user: AnyUser, agency: Agency, membership_id: int) -> Membership:
    membership = memberships_for(user, agency).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


def invitations_for(user: AnyUser, agency: Agency) -> QuerySet[Invitation]:
    """Invitations not yet accepted, newest first (admins and department admins)."""
    if not policy.can(user, agency, policy.USERS_INVITE):
        return Invitation.objects.none()
    return (
        Invitation.objects.filter(agency=agency, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def get_invitation_for(user: AnyUser, agency: Agency, invitation_id: int) -> Invitation:
    invitation = invitations_for(user, agency).filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404
    return invitation


def identity_providers_for(user: AnyUser, agency: Agency) -> QuerySet[IdentityProvider]:
    if not policy.can(user, agency, policy.AGENCY_SETTINGS):
        return IdentityProvider.objects.none()
    return IdentityProvider.objects.filter(agency=agency).order_by("name")


def get_identity_provider_for(user: AnyUser, agency: Agency, provider_id: int) -> IdentityProvider:
    provider = identity_providers_for(user, agency).filter(pk=provider_id).first()
    if provider is None:
        raise Http404
    return provider


def agency_for_task(agency_id: int) -> Agency:
    """The agency a background task was sent for (TenantTask has already set its row-level
    security context to it); it raises if the agency is gone, which fails the task loudly."""
    return Agency.objects.get(pk=agency_id)


def active_agencies() -> QuerySet[Agency]:
    """Every agency open on the portal, by name: the directory on the base domain."""
    return Agency.objects.filter(is_active=True).order_by("name")


def enabled_sso_provider(agency: Agency | None, public_id: str) -> IdentityProvider | None:
    """The agency's enabled OIDC or SAML option with this public id (allauth's provider or
    organisation id), or None: another agency's option never answers on this host."""
    if agency is None:
        return None
    return (
        IdentityProvider.objects.filter(agency=agency, public_id=public_id, is_enabled=True)
        .exclude(kind=ProviderKind.LDAP)
        .select_related("agency")
        .first()
    )


def enabled_providers(agency: Agency) -> QuerySet[IdentityProvider]:
    """Every sign-in option the agency has turned on (LDAP included), by name."""
    return IdentityProvider.objects.filter(agency=agency, is_enabled=True).order_by("name")


def identity_provider(agency: Agency | None, provider_id: int) -> IdentityProvider | None:
    """One of the agency's sign-in options by id, turned on or not (a pending sign-in names
    the option it came through), or None."""
    return IdentityProvider.objects.filter(pk=provider_id, agency=agency).first()


def can_sign_in_without_password(user: User, agency: Agency) -> bool:
    """Whether the user has a link to one of the agency's enabled sign-in options."""
    return ExternalIdentity.objects.filter(
        agency=agency, user=user, provider__is_enabled=True
    ).exists()


def user_for_email(email: str) -> User | None:
    """The account using this address, if any (people are platform-wide, not tenant rows)."""
    return User.objects.filter(email__iexact=email).first()


def sign_in_buttons(agency: Agency | None) -> list[IdentityProvider]:
    """The agency's enabled OIDC and SAML options: public, shown on its sign-in page."""
    if agency is None:
        return []
    return list(
        IdentityProvider.objects.filter(agency=agency, is_enabled=True)
        .exclude(kind=ProviderKind.LDAP)
        .order_by("name")
    )


def has_directory_sign_in(agency: Agency | None) -> bool:
    return agency is not None and (
        IdentityProvider.objects.filter(
            agency=agency, is_enabled=True, kind=ProviderKind.LDAP
        ).exists()
    )


def linked_identities(user: AnyUser, agency: Agency | None) -> QuerySet[ExternalIdentity]:
    """The signed-in user's own links to this agency's providers."""
    if agency is None or not user.is_authenticated:
        return ExternalIdentity.objects.none()
    return ExternalIdentity.objects.filter(agency=agency, user=user).select_related("provider")


def member_identities(
    user: AnyUser, agency: Agency, membership: Membership
) -> QuerySet[ExternalIdentity]:
    if not policy.can(user, agency, policy.USERS_VIEW):
        return ExternalIdentity.objects.none()
    return ExternalIdentity.objects.filter(agency=agency, user=membership.user).select_related(
        "provider"
    )


def own_sessions(user: User) -> QuerySet[UserSession]:
    """The signed-in user's live sessions on this host (row-level security keeps it to the
    host's agency, or to the platform domain)."""
    return UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at")


def get_own_session(user: User, session_id: int) -> UserSession:
    row = own_sessions(user).filter(pk=session_id).first()
    if row is None:
        raise Http404
    return row


def member_sessions(user: AnyUser, agency: Agency, membership: Membership) -> QuerySet[UserSession]:
    if not policy.can(user, agency, policy.USERS_VIEW):
        return UserSession.objects.none()
    return UserSession.objects.filter(
        agency=agency, user=membership.user, ended_at__isnull=True
    ).order_by("-last_seen_at")


# --- Names for the audit log (audit.registry.register_target_namer, in apps.py) --------------


def _ids(values: Iterable[str]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def member_names(agency_id: int, membership_ids: Iterable[str]) -> dict[str, str]:
    """Membership id → the person's name (or address), for the agency's audit log."""
    rows = Membership.objects.filter(agency_id=agency_id, pk__in=_ids(membership_ids))
    return {str(m.pk): str(m.user) for m in rows.select_related("user")}


def person_names(agency_id: int, user_ids: Iterable[str]) -> dict[str, str]:
    """User id → name, for people who work for the agency (no one else is named)."""
    rows = Membership.objects.filter(agency_id=agency_id, user_id__in=_ids(user_ids))
    return {str(m.user_id): str(m.user) for m in rows.select_related("user")}


def invitation_addresses(agency_id: int, invitation_ids: Iterable[str]) -> dict[str, str]:
    rows = Invitation.objects.filter(agency_id=agency_id, pk__in=_ids(invitation_ids))
    return {str(i.pk): i.email for i in rows}


def form_submission_for(agency: Agency | None, key: str) -> FormSubmission | None:
    """The claim of a form already sent with this token and these values (accounts.once),
    on this agency's host (None: the platform's own domain)."""
    return FormSubmission.objects.filter(agency=agency, key=key).first()
