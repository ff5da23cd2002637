from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render, resolve_url
from django.urls import reverse_lazy
from django.views.decorators.http import require_safe

import audit
from accounts import access, audit_events, policy
from accounts.decorators import agency_permission
from accounts.forms import LoginForm, PortalPasswordResetForm
from accounts.models import Agency


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
    return render(request, "accounts/member_list.html", {"members": members})


@require_safe
@agency_permission(policy.USERS_VIEW)
def member_detail(request, membership_id: int):
    member = access.get_membership_for(request.user, request.agency, membership_id)
    return render(request, "accounts/member_detail.html", {"member": member})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self):
        url = super().get_success_url()
        # A signed-in user sent to ?next=<this page> would loop; Django raises instead.
        return resolve_url(settings.LOGIN_REDIRECT_URL) if url == self.request.path else url


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Recorded in the chain of the host that received the request (the platform's on
        # the base domain); the email itself leaves after the transaction commits.
        audit.record(
            audit_events.PASSWORD_RESET_REQUESTED.code,
            request=self.request,
            details={"email": form.cleaned_data["email"][:254]},
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            audit_events.PASSWORD_RESET_COMPLETED.code, request=self.request, actor=form.user
        )
        return response
