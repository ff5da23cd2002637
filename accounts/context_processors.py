"""What every template knows about the request's tenant and the person's place in it."""

from accounts import policy
from accounts.contact import contact_of


def tenancy(request) -> dict:
    """``agency``, the person's ``membership`` there, and ``can``: every permission by name
    (``{% if can.templates_manage %}``), from accounts.policy. Templates ask ``can``, never
    ``membership.role``, so a link shows exactly when the page it opens lets them in.
    ``agency_contact``: how the public reaches the agency (every page's footer), from the
    agency row the host already loaded: no query."""
    agency = getattr(request, "agency", None)
    user = getattr(request, "user", None)
    membership = policy.membership_for(user, agency) if user is not None else None
    return {
        "agency": agency,
        "agency_contact": contact_of(agency) if agency is not None else None,
        "membership": membership,
        "is_staff_member": membership is not None,
        "can": policy.permissions_of(user, agency) if user is not None else {},
    }
