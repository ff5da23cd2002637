from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # The audit log's titles of the API's pages (registered on import).
        from api import page_titles  # noqa: F401
