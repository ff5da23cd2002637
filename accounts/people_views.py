"""People pages of the staff area: the staff list and a member's page, and what an admin
does to people (invite, roles, deactivation, sessions, lockout, two-factor reset, linked
sign-ins). Every change goes through accounts.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access, policy, ratelimits
from accounts.decorators import agency_permission, require_recent_auth
from accounts.forms import InviteForm, RoleForm
from accounts.once import once_per_form
from accounts.services import identities, invitations, members
from accounts.services.errors import ServiceError
from accounts.signin import lockout, mfa


def _member_page(membership) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("staff:member_detail", kwargs={"membership_id": membership.pk})
    )


def _actor_roles(request) -> tuple[str, ...]:
    membership = policy.membership_for(request.user, request.agency)
    return policy.grantable_roles(membership.role if membership else None)


@require_safe
@agency_permission(policy.USERS_VIEW)
def member_list(request):
    people = access.memberships_for(request.user, request.agency)
    pending = [
        i for i in access.invitations_for(request.user, request.agency) if i.revoked_at is None
    ]
    return render(
        request,
        "accounts/member_list.html",
        {
            "members": people,
            "invitations": pending,
            "can_invite": policy.can(request.user, request.agency, policy.USERS_INVITE),
        },
    )


@require_safe
@agency_permission(policy.USERS_VIEW)
def member_detail(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    can_manage = policy.can(request.user, request.agency, policy.USERS_MANAGE)
    context = {"member": member, "can_manage": can_manage}
    if can_manage:
        # Sessions, linked sign-ins, two-factor and lockout are shown to those who can act
        # on them.
        context.update(
            sessions=access.member_sessions(request.user, request.agency, member),
            identities=access.member_identities(request.user, request.agency, member),
            has_mfa=mfa.has_second_factor(member.user),
            locked=lockout.is_locked(member.user.email),
        )
    return render(request, "accounts/member_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.USERS_INVITE)
@once_per_form
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
                sent = invitations.invitation_create(
                    agency=request.agency,
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    http_request=request,
                )
            except ServiceError as error:
                form.add_error("email", str(error))
            else:
                messages.success(
                    request,
                    gettext("Invitation sent to %(email)s. The link works for %(minutes)s minutes.")
                    % {
                        "email": sent.invitation.email,
                        "minutes": settings.INVITATION_TIMEOUT // 60,
                    },
                )
                return HttpResponseRedirect(reverse("staff:member_list"))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/admin/invite.html", {"form": form}, status=status)


@require_POST
@agency_permission(policy.USERS_INVITE)
def invitation_resend(request, invitation_id: int):
    invitation = access.get_invitation_for(request.user, request.agency, invitation_id)
    try:
        invitations.invitation_resend(
            invitation=invitation, actor=request.user, http_request=request
        )
        messages.success(
            request,
            gettext("A new invitation link was sent to %(email)s.") % {"email": invitation.email},
        )
    except ServiceError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("staff:member_list"))


@require_POST
@agency_permission(policy.USERS_INVITE)
def invitation_revoke(request, invitation_id: int):
    invitation = access.get_invitation_for(request.user, request.agency, invitation_id)
    invitations.invitation_revoke(invitation=invitation, actor=request.user, http_request=request)
    messages.success(
        request,
        gettext("The invitation to %(email)s no longer works.") % {"email": invitation.email},
    )
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
            members.membership_change_role(
                membership=member,
                actor=request.user,
                role=form.cleaned_data["role"],
                http_request=request,
            )
        except ServiceError as error:
            form.add_error("role", str(error))
        else:
            messages.success(
                request, gettext("%(email)s's role is saved.") % {"email": member.user.email}
            )
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
        ended = members.membership_deactivate(
            membership=member, actor=request.user, http_request=request
        )
        messages.success(
            request,
            gettext("%(email)s is deactivated; %(n)s session(s) were signed out.")
            % {"email": member.user.email, "n": ended},
        )
    except ServiceError as error:
        messages.error(request, str(error))
    return _member_page(member)


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_reactivate(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    try:
        members.membership_reactivate(membership=member, actor=request.user, http_request=request)
        messages.success(
            request, gettext("%(email)s is active again.") % {"email": member.user.email}
        )
    except ServiceError as error:
        messages.error(request, str(error))
    return _member_page(member)


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_sessions_end(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    ended = members.member_sessions_end(membership=member, actor=request.user, http_request=request)
    messages.success(
        request,
        gettext("Signed out %(n)s session(s) of %(email)s.")
        % {"n": ended, "email": member.user.email},
    )
    return _member_page(member)


@require_POST
@agency_permission(policy.USERS_MANAGE)
def member_unlock(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    try:
        members.member_unlock(membership=member, actor=request.user, http_request=request)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            gettext("%(email)s can try signing in again.") % {"email": member.user.email},
        )
    return _member_page(member)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.USERS_MANAGE)
@require_recent_auth
def member_mfa_reset(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    if request.method == "POST":
        try:
            members.member_mfa_reset(membership=member, actor=request.user, http_request=request)
        except ServiceError as error:
            messages.error(request, str(error))
            return _member_page(member)
        messages.success(
            request,
            gettext(
                "Two-factor sign-in was reset for %(email)s. They set it up again at their "
                "next sign-in."
            )
            % {"email": member.user.email},
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
    identities.identity_unlink(identity=identity, actor=request.user, http_request=request)
    messages.success(
        request,
        gettext("The %(provider)s link was removed.") % {"provider": identity.provider.name},
    )
    return _member_page(member)
