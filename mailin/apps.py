from django.apps import AppConfig


class MailinConfig(AppConfig):
    name = "mailin"
    verbose_name = "Replies by email"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mailin import audit_events, tasks  # noqa: F401  (registers events and tasks)
