"""Redaction URLs, relative to a document's staff page: ``staff_redaction_patterns`` are
mounted under ``staff/requests/<number:number>/documents/<uuid:document_id>/redact/`` (inside
the "staff" namespace: ``staff:document_redact``...)."""

from django.urls import path

from documents.redaction import views

staff_redaction_patterns = [
    path("", views.redact, name="document_redact"),
    path("pages/<int:page>.png", views.page_image, name="document_page_image"),
    path("<int:redaction_id>/remove/", views.remove, name="redaction_remove"),
    path("finalise/", views.finalise, name="document_redact_finalise"),
]
