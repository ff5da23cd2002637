from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # Event types register on import: the integrity events (seals, verification) and the
        # viewer's own (the audit log download is recorded), with the viewer's page titles.
        from audit import audit_events, viewer_events  # noqa: F401
