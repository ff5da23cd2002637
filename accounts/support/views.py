"""Pages of support access. The operator's (``/accounts/support-access/``): on the platform's
own domain, the agencies to choose from; on an agency's host, their grants there, the form to
ask, and the emergency form. The admins' (``/staff/support-access/``): every grant, one
grant's whole life, and approve, deny, revoke. Every change goes through the services."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access as accounts_access
from accounts import policy
from accounts.decorators import agency_permission
from accounts.services.errors import ServiceError, ServiceFieldError
from accounts.signin import mfa
from accounts.support import access, services
from accounts.support.forms import DenyForm, EmergencyAccessForm, SupportRequestForm
from accounts.tenancy import agency_origin

# --- The operator's pages ----------------------------------------------------------------------


def operator_only(view):
    """Platform operators only (anyone else: 404), signed in with a second factor."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not access.is_operator(request.user):
            raise Http404
        if not mfa.session_satisfies(request):
            step = "accounts:mfa_step_up" if mfa.has_second_factor(request.user) else None
            target = reverse(step or "accounts:mfa_setup")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapped


def _ask(request, form_class, start, template: str):
    agency = request.agency
    if agency is None:
        raise Http404
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            start(
                agency=agency,
                operator=request.user,
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
                duration_minutes=form.cleaned_data["hours"] * 60,
                http_request=request,
            )
        except ServiceFieldError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            return HttpResponseRedirect(reverse("accounts:support_request"))
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "grants": access.operator_grants(request.user, agency)}
    return render(request, template, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@operator_only
def support_request(request):
    """Ask an agency for access (on its host), or choose the agency (on the platform)."""
    if request.agency is None:
        if request.method == "POST":
            raise Http404  # access is asked for on the agency's own host
        agencies = [
            (a, agency_origin(a) + reverse("accounts:support_request"))
            for a in accounts_access.active_agencies()
        ]
        return render(request, "accounts/support/choose_agency.html", {"agencies": agencies})
    return _ask(
        request, SupportRequestForm, services.support_grant_request, "accounts/support/ask.html"
    )


@require_http_methods(["GET", "HEAD", "POST"])
@operator_only
def support_emergency(request):
    """Break-glass: access at once, every admin told."""
    return _ask(
        request,
        EmergencyAccessForm,
        services.support_emergency_start,
        "accounts/support/emergency.html",
    )


@require_POST
@operator_only
def support_end(request, grant_id: int):
    if request.agency is None:
        raise Http404
    grant = access.get_operator_grant(request.user, request.agency, grant_id)
    try:
        services.support_grant_end(grant=grant, actor=request.user, http_request=request)
        messages.success(request, "Your support access here has ended.")
    except ServiceError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("accounts:support_request"))


# --- The agency admins' pages ------------------------------------------------------------------


def _grant_page(grant_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("staff:support_grant", kwargs={"grant_id": grant_id}))


@require_safe
@agency_permission(policy.SUPPORT_ACCESS_MANAGE)
def grant_list(request):
    services.support_grants_close_lapsed(agency=request.agency)
    grants = access.grants_for(request.user, request.agency)[:200]
    return render(request, "accounts/support/grant_list.html", {"grants": grants})


@require_safe
@agency_permission(policy.SUPPORT_ACCESS_MANAGE)
def grant_detail(request, grant_id: int):
    services.support_grants_close_lapsed(agency=request.agency)
    grant = access.get_grant_for(request.user, request.agency, grant_id)
    life = access.grant_life(request.user, request.agency, grant)
    return render(
        request,
        "accounts/support/grant_detail.html",
        {"grant": grant, "life": life, "deny_form": DenyForm()},
    )


def _answer(request, grant_id: int, act, done: str):
    grant = access.get_grant_for(request.user, request.agency, grant_id)
    try:
        act(grant=grant, actor=request.user, http_request=request)
        messages.success(request, done)
    except ServiceError as error:
        messages.error(request, str(error))
    return _grant_page(grant.pk)


@require_POST
@agency_permission(policy.SUPPORT_ACCESS_MANAGE)
def grant_approve(request, grant_id: int):
    return _answer(request, grant_id, services.support_grant_approve, "Support access approved.")


@require_POST
@agency_permission(policy.SUPPORT_ACCESS_MANAGE)
def grant_deny(request, grant_id: int):
    form = DenyForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""

    def deny(**kwargs):
        return services.support_grant_deny(note=note, **kwargs)

    return _answer(request, grant_id, deny, "Support access denied.")


@require_POST
@agency_permission(policy.SUPPORT_ACCESS_MANAGE)
def grant_revoke(request, grant_id: int):
    return _answer(request, grant_id, services.support_grant_end, "Support access revoked.")
