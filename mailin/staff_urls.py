"""The agency admin's page of the reply mailbox, under /staff/."""

from django.urls import path

from mailin import settings_views

staff_urlpatterns = [
    path("settings/mailbox/", settings_views.mailbox_settings, name="mailbox_settings"),
]
