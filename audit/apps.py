from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # The viewer's event types and page titles (the audit log download is recorded).
        from audit import viewer_events  # noqa: F401
