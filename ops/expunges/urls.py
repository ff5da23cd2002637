"""The expunge requests' operator pages (namespace ``ops``, with the self-scan's), mounted by
config/urls.py under /operations/."""

from django.urls import path

from ops.expunges import views

urlpatterns = [
    path("expunges/", views.expunge_list, name="expunges"),
    path("expunges/new/", views.expunge_new, name="expunge_new"),
    path("expunges/<int:request_id>/", views.expunge_detail, name="expunge"),
    path("expunges/<int:request_id>/approve/", views.expunge_approve, name="expunge_approve"),
    path("expunges/<int:request_id>/cancel/", views.expunge_cancel, name="expunge_cancel"),
    path("expunges/<int:request_id>/run-again/", views.expunge_rerun, name="expunge_rerun"),
]
