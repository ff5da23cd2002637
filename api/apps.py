from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # The audit log's titles of the API's pages, its events and schema extensions
        # (each registers on import).
        from api import audit_events, page_titles, schema  # noqa: F401
