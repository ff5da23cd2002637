from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "residents"
    verbose_name = "Residents' own data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from residents import audit_events, tasks  # noqa: F401  (registers events and tasks)
        from residents.models import DataExport
        from residents.services.exports import export_key_aad
        from vault.sealed_fields import register_sealed_field

        # reseal_secrets re-seals the data keys of exports waiting to be downloaded
        register_sealed_field(
            DataExport, "sealed_key", export_key_aad, "data export key", per_agency=False
        )
