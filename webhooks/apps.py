from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        # event types and page titles register themselves; tasks register under their names
        # (webhooks.jobs); the facts other apps record in the audit log become deliveries
        # in the same transaction (webhooks.events)
        import audit
        from webhooks import audit_events, events, services, tasks  # noqa: F401

        audit.on_record(events.AUDIT_CODES, services.deliveries_record)
        # reseal_secrets re-seals the signing secrets after a master-key rotation
        from vault.sealed_fields import register_sealed_field
        from webhooks.models import WebhookEndpoint

        register_sealed_field(
            WebhookEndpoint, "sealed_secret", WebhookEndpoint.secret_aad, "webhook signing secret"
        )
