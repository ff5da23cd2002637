from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fees and payments"

    def ready(self) -> None:
        # event types and page titles register themselves; tasks register under their names
        # (billing.jobs); the audit log names invoices by their numbers; the public timeline
        # says billing's entries in the reader's language
        from audit.registry import register_target_namer
        from billing import (  # noqa: F401
            access,
            audit_events,
            report_events,
            stripe_events,
            tasks,
            timeline_text,
        )

        register_target_namer("billing.invoice", access.invoice_names, fallback="an invoice")
        timeline_text.register()
        # reseal_secrets re-seals the agency's Stripe secrets after a master-key rotation
        from billing.models import StripeAccount
        from vault.sealed_fields import register_sealed_field

        register_sealed_field(
            StripeAccount,
            "sealed_api_key",
            lambda account: account.secret_aad("api-key"),
            "Stripe API key",
        )
        register_sealed_field(
            StripeAccount,
            "sealed_webhook_secret",
            lambda account: account.secret_aad("webhook-secret"),
            "Stripe webhook signing secret",
        )
