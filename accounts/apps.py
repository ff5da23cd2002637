from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Agencies and accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import checks, db_roles, signals  # noqa: F401  (registers checks and hooks)

        post_migrate.connect(db_roles.grant_app_role, sender=self)
