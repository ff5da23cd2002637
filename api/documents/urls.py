"""/api/v1/requests/<number>/documents/… and the download through a link."""

from django.urls import path

from api.documents import views
from documents import converters as document_converters  # noqa: F401  (<signed_link:...>)
from requests_portal import converters as request_converters  # noqa: F401  (<number:...>)

urlpatterns = [
    path(
        "requests/<number:number>/documents/",
        views.DocumentList.as_view(),
        name="request_documents",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/",
        views.DocumentRead.as_view(),
        name="request_document",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/link/",
        views.DocumentLink.as_view(),
        name="request_document_link",
    ),
    path(
        "documents/download/<signed_link:token>/",
        views.DocumentDownload.as_view(),
        name="document_download",
    ),
]
