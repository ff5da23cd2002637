"""The self-scan's operator pages (namespace ``ops``), mounted by config/urls.py."""

from django.urls import path

from ops.selfscan import views

app_name = "ops"

urlpatterns = [
    path("self-scan/", views.scan_runs, name="scan_runs"),
    path("self-scan/run/", views.scan_run_now, name="scan_run_now"),
    path("self-scan/<int:run_id>/", views.scan_run, name="scan_run"),
]
