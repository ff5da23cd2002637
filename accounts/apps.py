from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Agencies and accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # checks and hooks register themselves; tasks register under their names (accounts.jobs)
        from accounts import checks, db_roles, signals, tasks  # noqa: F401

        post_migrate.connect(db_roles.grant_app_role, sender=self)
