from django.urls import path

from requests_portal import views

staff_urlpatterns = [
    path("departments/", views.department_list, name="department_list"),
    path("departments/<int:department_id>/", views.department_detail, name="department_detail"),
]
