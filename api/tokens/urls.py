"""A person's API tokens (/accounts/api-tokens/) and an agency admin's (/staff/api-tokens/)."""

from django.urls import path

from api.tokens import views

urlpatterns = [
    path("", views.token_list, name="list"),
    path("<int:token_id>/revoke/", views.token_revoke, name="revoke"),
]

staff_urlpatterns = [
    path("", views.agency_token_list, name="list"),
    path("<int:token_id>/revoke/", views.agency_token_revoke, name="revoke"),
]
