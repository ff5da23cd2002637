"""Upload URLs, relative to a request's documents:

- ``staff_upload_patterns`` under ``staff/requests/<number:number>/documents/`` (inside the
  "staff" namespace: names ``staff:document_upload``...);
- ``resident_upload_patterns`` under ``requests/<number:number>/documents/`` (no namespace:
  ``resident_document_upload``...).
"""

from django.urls import path

from documents.upload import views


def _patterns(prefix: str, page, start, status, chunk, complete, cancel) -> list:
    return [
        path("upload/", page, name=f"{prefix}document_upload"),
        path("uploads/", start, name=f"{prefix}document_upload_start"),
        path("uploads/<uuid:upload_id>/", status, name=f"{prefix}document_upload_status"),
        path(
            "uploads/<uuid:upload_id>/chunks/<int:index>",
            chunk,
            name=f"{prefix}document_upload_chunk",
        ),
        path(
            "uploads/<uuid:upload_id>/complete/",
            complete,
            name=f"{prefix}document_upload_complete",
        ),
        path("uploads/<uuid:upload_id>/cancel/", cancel, name=f"{prefix}document_upload_cancel"),
    ]


staff_upload_patterns = _patterns(
    "",
    views.staff_upload,
    views.staff_upload_start,
    views.staff_upload_status,
    views.staff_upload_chunk,
    views.staff_upload_complete,
    views.staff_upload_cancel,
)

resident_upload_patterns = _patterns(
    "resident_",
    views.resident_upload,
    views.resident_upload_start,
    views.resident_upload_status,
    views.resident_upload_chunk,
    views.resident_upload_complete,
    views.resident_upload_cancel,
)
