from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import (
    account_views,
    agency_contact_views,
    converters,  # noqa: F401  (registers the converters used below)
    people_views,
    signin_settings_views,
    signup_views,
    views,
)
from accounts.signin import mfa_views
from accounts.signin import views as signin_views
from accounts.sso import views as sso_views
from accounts.support import urls as support_urls

app_name = "accounts"

urlpatterns = [
    path("login/", signin_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", signup_views.signup, name="signup"),
    path("signup/confirm/<token:token>/", signup_views.signup_confirm, name="signup_confirm"),
    path("password-reset/", signin_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<reset_uid:uidb64>/<reset_token:token>/",
        signin_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    # Two-factor
    path("two-factor/", mfa_views.verify, name="mfa_verify"),
    path("two-factor/confirm/", mfa_views.step_up, name="mfa_step_up"),
    path("two-factor/setup/", mfa_views.setup, name="mfa_setup"),
    path("two-factor/recovery-codes/", mfa_views.recovery_codes, name="mfa_recovery_codes"),
    path("two-factor/turn-off/", mfa_views.disable, name="mfa_disable"),
    # Own account
    path("security/", account_views.security, name="security"),
    path("password/", account_views.password_change, name="password_change"),
    path("sessions/<int:session_id>/end/", account_views.session_end, name="session_end"),
    path("sessions/end-others/", account_views.sessions_end_others, name="sessions_end_others"),
    path("profile/", account_views.profile, name="profile"),
    path("email/", account_views.email_change, name="email_change"),
    path(
        "email/confirm/<token:token>/",
        account_views.email_change_confirm,
        name="email_change_confirm",
    ),
    path("confirm/", signin_views.reauthenticate, name="reauthenticate"),
    path("sign-in-options/<int:provider_id>/link/", account_views.link_provider, name="link"),
    # Invitations (on the agency's host)
    path("invitations/<token:token>/", signup_views.invitation_accept, name="invitation_accept"),
    path("invitations/<token:token>/sso/", signup_views.invitation_sso, name="invitation_sso"),
    # Single sign-on: OpenID Connect (SAML's routes are in saml_urlpatterns below)
    path("sso/oidc/<uuid_text:provider_id>/login/", sso_views.oidc_login, name="oidc_login"),
    path(
        "sso/oidc/<uuid_text:provider_id>/callback/",
        sso_views.oidc_callback,
        name="oidc_callback",
    ),
    # Support access: a platform operator asks an agency (accounts.support)
    *support_urls.operator_urlpatterns,
]

# allauth reverses these names without a namespace (building the SAML ACS and metadata URLs),
# so they are mounted by config/urls.py outside the "accounts" namespace. The SSO ids are the
# option's public_id as text (uuid_text): what allauth compares with its app's client id.
saml_urlpatterns = [
    path("<uuid_text:organization_slug>/login/", sso_views.saml_login, name="saml_login"),
    path("<uuid_text:organization_slug>/acs/", sso_views.saml_acs, name="saml_acs"),
    path(
        "<uuid_text:organization_slug>/acs/finish/",
        sso_views.saml_finish_acs,
        name="saml_finish_acs",
    ),
    path("<uuid_text:organization_slug>/metadata/", sso_views.saml_metadata, name="saml_metadata"),
    path("<uuid_text:organization_slug>/sls/", sso_views.saml_sls, name="saml_sls"),
]

# The agency's public notices, at the root of its host (config/urls.py).
public_urlpatterns = [
    path("privacy/", agency_contact_views.privacy, name="privacy"),
    path("accessibility/", agency_contact_views.accessibility, name="accessibility"),
]

staff_urlpatterns = [
    path("", views.staff_dashboard, name="staff_dashboard"),
    *support_urls.staff_urlpatterns,
    path("users/", people_views.member_list, name="member_list"),
    path("users/invite/", people_views.invite, name="member_invite"),
    path("users/<int:membership_id>/", people_views.member_detail, name="member_detail"),
    path("users/<int:membership_id>/role/", people_views.member_role, name="member_role"),
    path(
        "users/<int:membership_id>/deactivate/",
        people_views.member_deactivate,
        name="member_deactivate",
    ),
    path(
        "users/<int:membership_id>/reactivate/",
        people_views.member_reactivate,
        name="member_reactivate",
    ),
    path(
        "users/<int:membership_id>/sessions/end/",
        people_views.member_sessions_end,
        name="member_sessions_end",
    ),
    path("users/<int:membership_id>/unlock/", people_views.member_unlock, name="member_unlock"),
    path(
        "users/<int:membership_id>/two-factor/reset/",
        people_views.member_mfa_reset,
        name="member_mfa_reset",
    ),
    path(
        "users/<int:membership_id>/sign-ins/<int:identity_id>/remove/",
        people_views.member_identity_unlink,
        name="member_identity_unlink",
    ),
    path(
        "invitations/<int:invitation_id>/resend/",
        people_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "invitations/<int:invitation_id>/withdraw/",
        people_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("settings/sign-in/", signin_settings_views.signin_settings, name="signin_settings"),
    path("settings/contact/", agency_contact_views.contact_settings, name="contact_settings"),
    path(
        "settings/sign-in/options/new/<provider_kind:kind>/",
        signin_settings_views.provider_new,
        name="provider_new",
    ),
    path(
        "settings/sign-in/options/<int:provider_id>/",
        signin_settings_views.provider_edit,
        name="provider_edit",
    ),
    path(
        "settings/sign-in/options/<int:provider_id>/delete/",
        signin_settings_views.provider_delete,
        name="provider_delete",
    ),
    path(
        "settings/sign-in/options/<int:provider_id>/test/",
        signin_settings_views.provider_test,
        name="provider_test",
    ),
]
