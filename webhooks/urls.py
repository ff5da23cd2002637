from django.urls import path

from webhooks import views

staff_urlpatterns = [
    path("settings/webhooks/", views.webhook_list, name="webhook_list"),
    path("settings/webhooks/<int:endpoint_id>/", views.webhook_detail, name="webhook_detail"),
    path(
        "settings/webhooks/<int:endpoint_id>/active/",
        views.webhook_active,
        name="webhook_active",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/remove/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/secret/",
        views.webhook_rotate,
        name="webhook_rotate",
    ),
    path(
        "settings/webhooks/deliveries/<int:delivery_id>/send-again/",
        views.webhook_resend,
        name="webhook_resend",
    ),
]
