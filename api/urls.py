"""/api/v1/: every resource is added here by its router or path, under the ``api`` namespace."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path

from api import audit_log, departments, invoices, people, views

app_name = "api"

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    # A page for people: signed out, it sends them to sign in as every staff page does.
    path("docs/", login_required(views.DocsView.as_view()), name="docs"),
    # Open data (public), and the agency's departments, invoices, audit events and people.
    path("open-data/", include("api.open_data.urls")),
    *departments.urlpatterns,
    *invoices.urlpatterns,
    *audit_log.urlpatterns,
    *people.urlpatterns,
    path("", include("api.requests.urls")),
    path("", include("api.documents.urls")),
    # Last: every other address here is the API's JSON 404 (a malformed number or id too).
    re_path(r"^", views.NotFound.as_view(), name="not_found"),
]
