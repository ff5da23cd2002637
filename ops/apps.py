from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops import audit_events, tasks  # noqa: F401 (registers the tasks' and events' names)
