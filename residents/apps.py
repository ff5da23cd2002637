from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "residents"
    verbose_name = "Residents' own data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from residents import audit_events, tasks  # noqa: F401  (registers events and tasks)
