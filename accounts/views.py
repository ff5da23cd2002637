"""Front pages: the agency's home page (or the directory of agencies on the base domain) and
the staff area's start page. Sign-in pages are in accounts.signin, people pages in
people_views, a person's own account in account_views."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import access, policy
from accounts.decorators import agency_permission
from accounts.support import access as support_access


@require_safe
def home(request):
    """The agency's front page, or the directory of agencies on the bare base domain."""
    if request.agency is None:
        return render(
            request, "accounts/platform_home.html", {"agencies": access.active_agencies()}
        )
    return render(request, "accounts/agency_home.html")


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_dashboard(request):
    """Links to the staff pages; each shows only to those its page lets in (``can``, from
    accounts.context_processors). Admins also see support access waiting for an answer or
    live now (emergency access above all)."""
    grants = support_access.grants_needing_attention(request.user, request.agency)
    return render(request, "accounts/staff_dashboard.html", {"support_grants": grants})
