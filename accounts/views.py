"""Front pages: the agency's home page (or the directory of agencies on the base domain),
the staff area's start page, and the language switch. Sign-in pages are in accounts.signin,
people pages in people_views, a person's own account in account_views."""

from django.shortcuts import render
from django.views import i18n
from django.views.decorators.http import require_POST, require_safe

from accounts import access, home_page, language, policy
from accounts.decorators import agency_permission
from accounts.services import own_account
from accounts.support import access as support_access


@require_safe
def home(request):
    """The agency's front page, or the directory of agencies on the bare base domain."""
    if request.agency is None:
        return render(
            request, "accounts/platform_home.html", {"agencies": access.active_agencies()}
        )
    # Anonymous visitors (most of this page's traffic) get it from memory, with their own
    # CSRF token (accounts/home_page.py); everyone else gets it rendered.
    cached = home_page.anonymous_home(request)
    if cached is not None:
        return cached
    return render(request, home_page.TEMPLATE)


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_dashboard(request):
    """Links to the staff pages; each shows only to those its page lets in (``can``, from
    accounts.context_processors). Admins also see support access waiting for an answer or
    live now (emergency access above all)."""
    grants = support_access.grants_needing_attention(request.user, request.agency)
    return render(request, "accounts/staff_dashboard.html", {"support_grants": grants})


@require_POST
def set_language(request):
    """The language switch on every page: Django's own view (the cookie, and back to ``next``
    on this host), and a signed-in person's choice stored for their emails."""
    response = i18n.set_language(request)
    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in language.codes():
        own_account.language_change(user=request.user, code=code, http_request=request)
    return response
