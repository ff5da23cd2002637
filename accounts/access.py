"""Tenant-scoped reads of accounts data. Views reach memberships only through these.

Another agency's membership, or one the user may not see, raises Http404: exactly what a
missing one does, so nobody learns what exists elsewhere.
"""

from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import Agency, Membership


def memberships_for(user, agency: Agency) -> QuerySet[Membership]:
    if not policy.can(user, agency, policy.USERS_VIEW):
        return Membership.objects.none()
    return Membership.objects.filter(agency=agency).select_related("user").order_by("user__email")


def get_membership_for(user, agency: Agency, membership_id: int) -> Membership:
    membership = memberships_for(user, agency).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership
