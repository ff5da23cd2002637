"""Document URLs. Staff ones are mounted under /staff/ (namespace "staff"), the rest at the
root (config/urls.py)."""

from django.urls import include, path

from documents import (
    converters,  # noqa: F401  (registers <signed_link:...>)
    views,
)
from documents.agency_settings import views as settings_views
from documents.redaction import urls as redaction_urls
from documents.upload import urls as upload_urls
from requests_portal import converters as request_converters  # noqa: F401  (<number:...>)

staff_urlpatterns = [
    path("settings/documents/", settings_views.document_settings, name="document_settings"),
    path(
        "settings/documents/reasons/<int:redaction_reason_id>/retire/",
        settings_views.reason_retire,
        name="redaction_reason_retire",
    ),
    path("requests/<number:number>/documents/", views.staff_documents, name="request_documents"),
    path("requests/<number:number>/documents/", include(upload_urls.staff_upload_patterns)),
    path(
        "requests/<number:number>/documents/release/",
        views.staff_documents_release,
        name="request_documents_release",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/",
        views.staff_document,
        name="document_detail",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/release/",
        views.staff_document_release,
        name="document_release",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/findings/<int:finding_id>/resolve/",
        views.staff_finding_resolve,
        name="finding_resolve",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/versions/<int:version>/download/",
        views.staff_document_link,
        name="document_link",
    ),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/redact/",
        include(redaction_urls.staff_redaction_patterns),
    ),
]

public_urlpatterns = [
    path("requests/<number:number>/documents/", include(upload_urls.resident_upload_patterns)),
    path(
        "requests/<number:number>/documents/<uuid:document_id>/download/",
        views.resident_document_link,
        name="resident_document_link",
    ),
    path("documents/download/<signed_link:token>/", views.download, name="document_download"),
]
