"""The monitoring pages' URLs (issue 13): the platform's own domain only (the views answer
404 on an agency's host)."""

from django.urls import path

from ops import status_views

urlpatterns = [
    path("healthz/deep", status_views.healthz_deep, name="healthz_deep"),
    path("status/", status_views.status_page, name="status"),
    path("status/incidents/", status_views.incident_list, name="status_incidents"),
    path(
        "status/incidents/<int:incident_id>/resolve/",
        status_views.incident_resolve,
        name="status_incident_resolve",
    ),
]
