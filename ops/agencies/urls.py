"""The operators' agency pages (namespace ``ops_agencies``), mounted by config/urls.py at
``/operations/agencies/``."""

from django.urls import path

from ops.agencies import views

app_name = "ops_agencies"

urlpatterns = [
    path("", views.agency_list, name="list"),
    path("new/", views.agency_new, name="new"),
    path("<int:agency_id>/", views.agency_detail, name="detail"),
]
