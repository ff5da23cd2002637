"""Agency admin pages: people (invite, roles, deactivation, sessions, lockout, two-factor
reset), the sign-in policy, and sign-in options (OIDC, SAML, LDAP)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access, policy, ratelimits, services
from accounts.admin_forms import LdapTestForm, ProviderForm
from accounts.decorators import agency_permission, require_recent_auth
from accounts.forms import InviteForm, RoleForm, SignInPolicyForm
from accounts.models import ProviderKind
from accounts.sso import config as sso_config
from accounts.sso import ldap_check


def _member_page(membership) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("staff:member_detail", kwargs={"membership_id": membership.pk})
    )


def _actor_roles(request) -> tuple[str, ...]:
    membership = policy.membership_for(request.user, request.agency)
    return policy.grantable_roles(membership.role if membership else None)


# --- People ------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.USERS_INVITE)
def invite(request):
    form = InviteForm(request.POST or None, roles=_actor_roles(request))
    if request.method == "POST":
        if ratelimits.limited(
            request,
            group="invite_user",
            rate=settings.RATE_LIMIT_INVITE_PER_USER,
            key=lambda group, req: f"user:{req.user.pk}",
        ):
            return ratelimits.too_many(request)
        if form.is_valid():
            try:
                sent = services.invitation_create(
                    agency=request.agency,
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    request=request,
                )
            except services.ServiceError as error:
                form.add_error("email", str(error))
            else:
                messages.success(
                    request,
                    f"Invitation sent to {sent.invitation.email}. The link works for "
                    f"{settings.INVITATION_TIMEOUT // 60} minutes.",
                )
                return HttpResponseRedirect(reverse("staff:member_list"))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/admin/invite.html", {"form": form}, status=status)


@require_POST
@agency_permission(policy.USERS_INVITE)
def invitation_resend(request, invitation_id: int):
    invitation = access.get_invitation_for(request.user, request.agency, invitation_id)
    try:
        services.invitation_resend(invitation=invitation, actor=request.user, request=request)
        messages.success(request, f"A new invitation link was sent to {invitation.email}.")
    except services.ServiceError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("staff:member_list"))


@require_POST
@agency_permission(policy.USERS_INVITE)
def invitation_revoke(request, invitation_id: int):
    invitation = access.get_invitation_for(request.user, request.agency, invitation_id)
    services.invitation_revoke(invitation=invitation, actor=request.user, request=request)
    messages.success(request, f"The invitation to {invitation.email} no longer works.")
    return HttpResponseRedirect(reverse("staff:member_list"))


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.USERS_MANAGE)
@require_recent_auth
def member_role(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    form = RoleForm(
        request.POST or None, roles=_actor_roles(request), initial={"role": member.role}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_change_role(
                membership=member,
                actor=request.user,
                role=form.cleaned_data["role"],
                request=request,
            )
        except services.ServiceError as error:
            form.add_error("role", str(error))
        else:
            messages.success(request, f"{member.user.email}'s role is saved.")
            return _member_page(member)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "accounts/admin/member_role.html", {"member": member, "form": form}, status=status
    )


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_deactivate(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    try:
        ended = services.membership_deactivate(
            membership=member, actor=request.user, request=request
        )
        messages.success(
            request,
            f"{member.user.email} is deactivated; {ended} session(s) were signed out.",
        )
    except services.ServiceError as error:
        messages.error(request, str(error))
    return _member_page(member)


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_reactivate(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    try:
        services.membership_reactivate(membership=member, actor=request.user, request=request)
        messages.success(request, f"{member.user.email} is active again.")
    except services.ServiceError as error:
        messages.error(request, str(error))
    return _member_page(member)


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_sessions_end(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    ended = services.member_sessions_end(membership=member, actor=request.user, request=request)
    messages.success(request, f"Signed out {ended} session(s) of {member.user.email}.")
    return _member_page(member)


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_unlock(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    try:
        services.member_unlock(membership=member, actor=request.user, request=request)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{member.user.email} can try signing in again.")
    return _member_page(member)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.USERS_MANAGE)
@require_recent_auth
def member_mfa_reset(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    if request.method == "POST":
        try:
            services.member_mfa_reset(membership=member, actor=request.user, request=request)
        except services.ServiceError as error:
            messages.error(request, str(error))
            return _member_page(member)
        messages.success(
            request,
            f"Two-factor sign-in was reset for {member.user.email}. They set it up again at "
            "their next sign-in.",
        )
        return _member_page(member)
    return render(request, "accounts/admin/member_mfa_reset.html", {"member": member})


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_identity_unlink(request, membership_id: int, identity_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    identity = (
        access.member_identities(request.user, request.agency, member)
        .filter(pk=identity_id)
        .first()
    )
    if identity is None:
        raise Http404
    services.identity_unlink(identity=identity, actor=request.user, request=request)
    messages.success(request, f"The {identity.provider.name} link was removed.")
    return _member_page(member)


# --- Sign-in policy and options ------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth
def signin_settings(request):
    agency = request.agency
    form = SignInPolicyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            services.signin_policy_update(
                agency=agency,
                actor=request.user,
                values={f: form.cleaned_data[f] for f in services.SIGNIN_POLICY_FIELDS},
                request=request,
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
            # The ModelForm wrote the refused values onto the agency object: reload it so
            # the page below shows what is really in force.
            agency.refresh_from_db()
        else:
            messages.success(request, "The sign-in policy is saved.")
            return HttpResponseRedirect(reverse("staff:signin_settings"))
    providers = access.identity_providers_for(request.user, agency)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "accounts/admin/signin_settings.html",
        {
            "form": form,
            "providers": providers,
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
    return services.provider_save(
        agency=request.agency,
        actor=request.user,
        kind=kind,
        name=form.cleaned_data["name"],
        is_enabled=form.cleaned_data["is_enabled"],
        provision_role=form.cleaned_data["provision_role"],
        settings_data=form.provider_settings(),
        secret=form.secret(),
        provider=provider,
        request=request,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth
def provider_new(request, kind: str):
    if kind not in ProviderKind.values:
        raise Http404
    form = ProviderForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            provider = _save_provider(request, form, kind, None)
        except services.ServiceError as error:
            form.add_error(getattr(error, "field", None), str(error))
        else:
            messages.success(request, f"{provider.name} is saved.")
            return HttpResponseRedirect(
                reverse("staff:provider_edit", kwargs={"provider_id": provider.pk})
            )
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "accounts/admin/provider_form.html",
        {"form": form, **_provider_page_context(request, None, kind)},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth
def provider_edit(request, provider_id: int):
    provider = access.get_identity_provider_for(request.user, request.agency, provider_id)
    form = ProviderForm(request.POST or None, kind=provider.kind, provider=provider)
    if request.method == "POST" and form.is_valid():
        try:
            _save_provider(request, form, provider.kind, provider)
        except services.ServiceError as error:
            form.add_error(getattr(error, "field", None), str(error))
        else:
            messages.success(request, f"{form.cleaned_data['name']} is saved.")
            return HttpResponseRedirect(
                reverse("staff:provider_edit", kwargs={"provider_id": provider.pk})
            )
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "accounts/admin/provider_form.html",
        {
            "form": form,
            "test_form": LdapTestForm() if provider.kind == ProviderKind.LDAP else None,
            "secret_unreadable": bool(provider.sealed_secret)
            and not sso_config.get_secret(provider),
            **_provider_page_context(request, provider, provider.kind),
        },
        status=status,
    )


def _provider_edit_page(request, provider_id: int) -> str:
    return reverse("staff:provider_edit", kwargs={"provider_id": provider_id})


@require_POST
@agency_permission(policy.AGENCY_SETTINGS)
@require_recent_auth(return_to="staff:signin_settings")
def provider_delete(request, provider_id: int):
    provider = access.get_identity_provider_for(request.user, request.agency, provider_id)
    try:
        services.provider_delete(provider=provider, actor=request.user, request=request)
        messages.success(request, f"{provider.name} was removed.")
    except services.ServiceError as error:
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
        services.provider_tested(
            provider=provider,
            actor=request.user,
            username=form.cleaned_data["username"],
            password_checked=bool(form.cleaned_data["password"]),
            steps=result,
            request=request,
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/admin/provider_test.html",
        {"provider": provider, "test_form": form, "result": result},
        status=status,
    )
