"""The agency's sign-in settings pages: its sign-in policy, and its sign-in options (OIDC,
SAML, LDAP) with their "Test these settings". Every change goes through accounts.services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access, policy, ratelimits
from accounts.decorators import agency_permission, require_recent_auth
from accounts.forms import SignInPolicyForm
from accounts.models import SIGNIN_POLICY_FIELDS, IdentityProvider, ProviderKind
from accounts.once import once_per_form
from accounts.provider_forms import LdapTestForm, ProviderForm
from accounts.services import providers, signin_policy
from accounts.services.errors import ServiceError
from accounts.sso import config as sso_config
from accounts.sso import ldap_check


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth
def signin_settings(request):
    agency = request.agency
    form = SignInPolicyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            signin_policy.signin_policy_update(
                agency=agency,
                actor=request.user,
                values={f: form.cleaned_data[f] for f in SIGNIN_POLICY_FIELDS},
                http_request=request,
            )
        except ServiceError as error:
            form.add_error(None, str(error))
            # The ModelForm wrote the refused values onto the agency object: reload it so
            # the page below shows what is really in force.
            agency.refresh_from_db()
        else:
            messages.success(request, gettext("The sign-in policy is saved."))
            return HttpResponseRedirect(reverse("staff:signin_settings"))
    options = access.identity_providers_for(request.user, agency)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "accounts/admin/signin_settings.html",
        {
            "form": form,
            "providers": options,
            "kinds": ProviderKind.choices,
        },
        status=status,
    )


def _provider_page_context(request, provider, kind) -> dict:
    context = {"kind_label": ProviderKind(kind).label, "kind": kind, "provider": provider}
    if provider is not None and kind != ProviderKind.LDAP:
        context["callback_url"] = request.build_absolute_uri(sso_config.callback_path(provider))
        if kind == ProviderKind.SAML:
            context["metadata_url"] = request.build_absolute_uri(sso_config.metadata_path(provider))
    return context


def _save_provider(request, form, kind, provider):
    return providers.provider_save(
        agency=request.agency,
        actor=request.user,
        kind=kind,
        name=form.cleaned_data["name"],
        is_enabled=form.cleaned_data["is_enabled"],
        provision_role=form.cleaned_data["provision_role"],
        settings_data=form.provider_settings(),
        secret=form.secret(),
        provider=provider,
        http_request=request,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth
@once_per_form
def provider_new(request, kind: str):
    if kind not in ProviderKind.values:
        raise Http404
    return _provider_form_page(request, kind, None)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth
def provider_edit(request, provider_id: int):
    provider = access.get_identity_provider_for(request.user, request.agency, provider_id)
    return _provider_form_page(request, provider.kind, provider)


def _provider_form_page(request, kind: str, provider: IdentityProvider | None):
    """A new sign-in option's form, or an existing one's (with its LDAP test form and a word
    when its stored secret can no longer be opened); a saved one goes to its own page."""
    form = ProviderForm(request.POST or None, kind=kind, provider=provider)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_provider(request, form, kind, provider)
        except ServiceError as error:
            form.add_error(getattr(error, "field", None), str(error))
        else:
            messages.success(request, gettext("%(name)s is saved.") % {"name": saved.name})
            return HttpResponseRedirect(_provider_edit_page(request, saved.pk))
    context = {"form": form, **_provider_page_context(request, provider, kind)}
    if provider is not None:
        context["test_form"] = LdapTestForm() if kind == ProviderKind.LDAP else None
        context["secret_unreadable"] = bool(provider.sealed_secret) and not sso_config.get_secret(
            provider
        )
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/admin/provider_form.html", context, status=status)


def _provider_edit_page(request, provider_id: int) -> str:
    return reverse("staff:provider_edit", kwargs={"provider_id": provider_id})


@require_POST
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth(return_to="staff:signin_settings")
def provider_delete(request, provider_id: int):
    provider = access.get_identity_provider_for(request.user, request.agency, provider_id)
    try:
        providers.provider_delete(provider=provider, actor=request.user, http_request=request)
        messages.success(request, gettext("%(name)s was removed.") % {"name": provider.name})
    except ServiceError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("staff:signin_settings"))


@require_POST
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth(return_to=_provider_edit_page)
def provider_test(request, provider_id: int):
    """Try the LDAP settings: bind as the service account, find a person, and optionally
    check their password. Shows what happened; signs nobody in, changes nothing. It can
    check directory passwords, so it counts against the admin's code and re-authentication
    limit, and every run is recorded (never the password)."""
    provider = access.get_identity_provider_for(request.user, request.agency, provider_id)
    if provider.kind != ProviderKind.LDAP:
        raise Http404
    if ratelimits.code_attempts_exceeded(request, request.user):
        return ratelimits.too_many(request)
    form = LdapTestForm(request.POST)
    result = None
    if form.is_valid():
        result = ldap_check.run(
            provider, form.cleaned_data["username"], form.cleaned_data["password"]
        )
        providers.provider_tested(
            provider=provider,
            actor=request.user,
            username=form.cleaned_data["username"],
            password_checked=bool(form.cleaned_data["password"]),
            steps=result,
            http_request=request,
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/admin/provider_test.html",
        {"provider": provider, "test_form": form, "result": result},
        status=status,
    )
