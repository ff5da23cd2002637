from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "vault"
    verbose_name = "Keys, sealing and blob storage"

    def ready(self) -> None:
        from vault import checks  # noqa: F401 (the storage locations' start-up check)
