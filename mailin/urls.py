from django.urls import path

from mailin import views

app_name = "mailin"

urlpatterns = [
    path("inbound/mailgun/", views.mailgun_inbound, name="mailgun_inbound"),
]
