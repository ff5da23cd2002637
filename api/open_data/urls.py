"""Open data's routes, under /api/v1/open-data/ (included by api/urls.py)."""

from django.urls import path

from api.open_data import views
from requests_portal import converters  # noqa: F401  (registers <number:...>)

export = views.OpenDataExport.as_view()

urlpatterns = [
    path("requests/", views.OpenRequestList.as_view(), name="open_requests"),
    path("requests/<number:number>/", views.OpenRequestDetail.as_view(), name="open_request"),
    path("documents/", views.OpenDocumentList.as_view(), name="open_documents"),
    path("requests.csv", export, {"dataset": "requests", "fmt": "csv"}, name="open_requests_csv"),
    path(
        "requests.json", export, {"dataset": "requests", "fmt": "json"}, name="open_requests_json"
    ),
    path(
        "documents.csv", export, {"dataset": "documents", "fmt": "csv"}, name="open_documents_csv"
    ),
    path(
        "documents.json",
        export,
        {"dataset": "documents", "fmt": "json"},
        name="open_documents_json",
    ),
]
