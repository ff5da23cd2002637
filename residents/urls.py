from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("", views.data, name="data"),
    path("exports/<uuid:export_id>/", views.export_status, name="export_status"),
    path("exports/<uuid:export_id>/download/", views.export_download, name="export_download"),
    path("delete/", views.account_delete, name="account_delete"),
]
