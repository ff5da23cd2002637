from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import audit_events  # noqa: F401 (event types register on import)
        from audit.registry import register_page_titles

        # config mounts the viewer under the staff pages (config/urls.py)
        register_page_titles(
            {
                "staff:audit_log": "the audit log",
                "staff:audit_export": "the audit log download",
            }
        )
