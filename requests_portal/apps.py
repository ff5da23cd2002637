from django.apps import AppConfig


class RequestsPortalConfig(AppConfig):
    name = "requests_portal"
    verbose_name = "Records requests"
