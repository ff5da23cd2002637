from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Fees and payments"

    def ready(self) -> None:
        # event types and page titles register themselves; tasks register under their names
        # (billing.jobs); the audit log names invoices by their numbers
        from audit.registry import register_target_namer
        from billing import access, audit_events, report_events, tasks  # noqa: F401

        register_target_namer("billing.invoice", access.invoice_names, fallback="an invoice")
