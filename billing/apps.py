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
