"""The operators' pages (namespace ``ops``): the self-scan's and the expunge requests'
(ops/expunges/urls.py), mounted by config/urls.py under /operations/."""

from django.urls import path

from ops.expunges import urls as expunge_urls
from ops.selfscan import views

app_name = "ops"

urlpatterns = [
    path("self-scan/", views.scan_runs, name="scan_runs"),
    path("self-scan/run/", views.scan_run_now, name="scan_run_now"),
    path("self-scan/<int:run_id>/", views.scan_run, name="scan_run"),
    *expunge_urls.urlpatterns,
]
