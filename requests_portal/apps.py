from django.apps import AppConfig


class RequestsPortalConfig(AppConfig):
    name = "requests_portal"
    verbose_name = "Records requests"

    def ready(self) -> None:
        # tasks register under their names (accounts.jobs.enqueue)
        from requests_portal import tasks  # noqa: F401
