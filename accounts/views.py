"""Home pages, the staff user list, and signing in, out and resetting a password."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render, resolve_url
from django.urls import reverse_lazy
from django.views.decorators.http import require_safe

import audit
from accounts import access, audit_events, lockout, policy, ratelimits, services, signin
from accounts.decorators import agency_permission
from accounts.forms import LoginForm, PortalPasswordResetForm, PortalSetPasswordForm
from accounts.models import Agency
from accounts.sso import config as sso_config


@require_safe
def home(request):
    """The agency's front page, or the directory of agencies on the bare base domain."""
    if request.agency is None:
        agencies = Agency.objects.filter(is_active=True).order_by("name")
        return render(request, "accounts/platform_home.html", {"agencies": agencies})
    return render(request, "accounts/agency_home.html")


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_dashboard(request):
    return render(request, "accounts/staff_dashboard.html")


@require_safe
@agency_permission(policy.USERS_VIEW)
def member_list(request):
    members = access.memberships_for(request.user, request.agency)
    invitations = [
        i for i in access.invitations_for(request.user, request.agency) if i.revoked_at is None
    ]
    return render(
        request,
        "accounts/member_list.html",
        {
            "members": members,
            "invitations": invitations,
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
            has_mfa=_has_mfa(member.user),
            locked=lockout.is_locked(member.user.email),
        )
    return render(request, "accounts/member_detail.html", context)


def _has_mfa(user) -> bool:
    from accounts import mfa

    return mfa.has_second_factor(user)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if ratelimits.limited(request, group="login_ip", rate=settings.RATE_LIMIT_LOGIN_PER_IP):
            return ratelimits.too_many(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        method = signin.method_for_backend(user.backend)
        return signin.begin(
            self.request,
            user,
            backend=user.backend,
            method=method,
            next_url=self.get_redirect_url(),
            provider=getattr(self.request, "ldap_provider", None) if method == "ldap" else None,
        )

    def get_success_url(self):
        url = super().get_success_url()
        # A signed-in user sent to ?next=<this page> would loop; Django raises instead.
        return resolve_url(settings.LOGIN_REDIRECT_URL) if url == self.request.path else url

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = getattr(self.request, "agency", None)
        buttons = access.sign_in_buttons(agency)
        context["sso_buttons"] = [(p, sso_config.sign_in_path(p)) for p in buttons]
        context["directory_sign_in"] = access.has_directory_sign_in(agency)
        context["staff_password_off"] = agency is not None and not agency.staff_password_login
        return context


def _reset_email_key(group, request) -> str:
    return (request.POST.get("email") or "").strip().lower()[:254] or ratelimits.ip_key(
        group, request
    )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        by_ip = ratelimits.limited(request, group="reset_ip", rate=settings.RATE_LIMIT_RESET_PER_IP)
        by_email = ratelimits.limited(
            request,
            group="reset_email",
            rate=settings.RATE_LIMIT_RESET_PER_EMAIL,
            key=_reset_email_key,
        )
        if by_ip or by_email:
            return ratelimits.too_many(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Recorded in the chain of the host that received the request (the platform's on
        # the base domain); the email itself leaves after the transaction commits.
        audit.record(
            audit_events.PASSWORD_RESET_REQUESTED.code,
            http_request=self.request,
            details={"email": form.cleaned_data["email"][:254]},
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's single-use, one-hour token. A reset never signs anyone in (so it never skips
    two-factor), and it ends every session the person had."""

    form_class = PortalSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = False

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        # A good link first answers with a redirect (Django hides the token); a page saying
        # the link is invalid is a 200 without validlink.
        if not self.validlink and response.status_code == 200:
            audit.record(
                audit_events.PASSWORD_RESET_REFUSED.code,
                http_request=self.request,
                details={"reason": "expired, used or unknown link"},
            )
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user, request=self.request, reset=True)
        return response
