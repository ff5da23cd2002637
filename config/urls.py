"""URL wiring. config is the one place that joins the apps together: the audit viewer gets
its permission check here, because the audit app knows nothing about roles."""

from django.urls import include, path

from accounts import policy
from accounts import urls as accounts_urls
from accounts import views as accounts_views
from accounts.decorators import agency_permission
from api.tokens import urls as api_token_urls
from audit import export_views as audit_export_views
from audit import views as audit_views
from billing import urls as billing_urls
from config import views as config_views
from documents import urls as documents_urls
from mailin import staff_urls as mailin_staff_urls
from ops import status_urls as ops_status_urls
from requests_portal import urls as requests_urls
from webhooks import urls as webhooks_urls

staff_urlpatterns = [
    *accounts_urls.staff_urlpatterns,
    *requests_urls.staff_urlpatterns,
    *documents_urls.staff_urlpatterns,
    *webhooks_urls.staff_urlpatterns,
    *mailin_staff_urls.staff_urlpatterns,
    path("audit/", agency_permission(policy.AUDIT_VIEW)(audit_views.event_list), name="audit_log"),
    path(
        "audit/<int:event_id>/",
        agency_permission(policy.AUDIT_VIEW)(audit_views.event_detail),
        name="audit_event",
    ),
    path(
        "audit/export.csv",
        agency_permission(policy.AUDIT_VIEW)(audit_export_views.event_export),
        name="audit_export",
    ),
    path(
        "audit/export.jsonl",
        agency_permission(policy.AUDIT_VIEW)(audit_export_views.event_export_jsonl),
        name="audit_export_jsonl",
    ),
    path(
        "audit/verify/public-key.pem",
        agency_permission(policy.AUDIT_VIEW)(audit_export_views.seal_public_key),
        name="audit_public_key",
    ),
    path(
        "audit/verify/verify_export.py",
        agency_permission(policy.AUDIT_VIEW)(audit_export_views.verifier_script),
        name="audit_verifier",
    ),
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("accounts/data/", include("residents.urls")),
    path("accounts/sso/saml/", include(accounts_urls.saml_urlpatterns)),
    *accounts_urls.public_urlpatterns,
    *requests_urls.public_urlpatterns,
    *documents_urls.public_urlpatterns,
    path("staff/", include((staff_urlpatterns, "staff"))),
    path("", include((billing_urls.urlpatterns, "billing"))),
    path("healthz", config_views.healthz, name="healthz"),
    # The REST API (issue 14): the same agency from the host, policy, services and audit.
    path("api/v1/", include("api.urls")),
    # Replies by email: the mail provider's signed inbound webhook (the platform's host).
    path("mail/", include("mailin.urls")),
    # Personal API tokens: a person's own, and an agency admin's view of the agency's.
    path("accounts/api-tokens/", include((api_token_urls.urlpatterns, "api_tokens"))),
    path("staff/api-tokens/", include((api_token_urls.staff_urlpatterns, "api_tokens_staff"))),
    # The platform operators' pages of operations (the weekly self-scan).
    path("operations/", include("ops.selfscan.urls")),
    # Their agency pages: the list, creating one in a storage location, one agency's page.
    path("operations/agencies/", include("ops.agencies.urls")),
    *ops_status_urls.urlpatterns,
    # The language switch (every host: agencies' and the platform's). Django's set_language,
    # wrapped to store a signed-in person's choice too (accounts.views.set_language).
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
