"""Support access URLs: the operator's under ``accounts/`` (accounts.urls), the admins' under
``staff/`` (accounts.urls.staff_urlpatterns)."""

from django.urls import path

from accounts.support import views

operator_urlpatterns = [
    path("support-access/", views.support_request, name="support_request"),
    path("support-access/emergency/", views.support_emergency, name="support_emergency"),
    path("support-access/<int:grant_id>/end/", views.support_end, name="support_end"),
]

staff_urlpatterns = [
    path("support-access/", views.grant_list, name="support_access"),
    path("support-access/<int:grant_id>/", views.grant_detail, name="support_grant"),
    path(
        "support-access/<int:grant_id>/approve/", views.grant_approve, name="support_grant_approve"
    ),
    path("support-access/<int:grant_id>/deny/", views.grant_deny, name="support_grant_deny"),
    path("support-access/<int:grant_id>/revoke/", views.grant_revoke, name="support_grant_revoke"),
]
