from django.apps import AppConfig


class MailinConfig(AppConfig):
    name = "mailin"
    verbose_name = "Replies by email"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mailin import audit_events, tasks  # noqa: F401  (registers events and tasks)
        from mailin.models import Mailbox
        from vault.sealed_fields import register_sealed_field

        # reseal_secrets re-seals the mailbox passwords after a master-key rotation
        register_sealed_field(Mailbox, "sealed_password", Mailbox.password_aad, "mailbox password")
