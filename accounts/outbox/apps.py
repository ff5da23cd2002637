from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "accounts.outbox"
    label = "outbox"
    verbose_name = "Background work not yet sent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The relay's beat task registers under its name.
        from accounts.outbox import tasks  # noqa: F401
