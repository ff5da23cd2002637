from accounts import policy


def tenancy(request) -> dict:
    agency = getattr(request, "agency", None)
    user = getattr(request, "user", None)
    membership = policy.membership_for(user, agency) if user is not None else None
    return {
        "agency": agency,
        "membership": membership,
        "is_staff_member": membership is not None,
    }
