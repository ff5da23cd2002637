"""Requests made under support access: recognised once, marked for the audit log."""

from __future__ import annotations

import audit
from accounts import policy
from accounts.support import access, services


class SupportAccessMiddleware:
    """For a platform operator on an agency's host: write down the end of any grant whose
    time is up, then, when a grant is live, run the rest of the request inside
    ``audit.acting_as_grant`` so every event it records (the page view included: this sits
    before AuditAccessMiddleware) carries the grant's id. The first request under an
    approved grant records that access began. The grant itself is found by
    ``policy.membership_for``, the lookup every permission check uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        agency = getattr(request, "agency", None)
        user = getattr(request, "user", None)
        if agency is None or user is None or not access.is_operator(user):
            return self.get_response(request)
        services.support_grants_close_lapsed(agency=agency, operator=user)
        grant = policy.support_grant_of(policy.membership_for(user, agency))
        if grant is None:
            return self.get_response(request)
        request.support_grant = grant
        with audit.acting_as_grant(grant.pk, agency_id=agency.pk):
            if grant.first_used_at is None:
                services.support_grant_mark_used(grant=grant, http_request=request)
            return self.get_response(request)
