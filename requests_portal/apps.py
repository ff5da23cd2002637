from django.apps import AppConfig


class RequestsPortalConfig(AppConfig):
    name = "requests_portal"
    verbose_name = "Records requests"

    def ready(self) -> None:
        # tasks register under their names (accounts.jobs.enqueue)
        from requests_portal import tasks  # noqa: F401

        _name_audit_targets()


def _name_audit_targets() -> None:
    """How the audit log names the requests its events are about."""
    from audit.registry import register_target_namer
    from requests_portal import access, audit_events  # noqa: F401 (event types register)

    register_target_namer(
        "requests_portal.recordsrequest", access.request_names, fallback="a request"
    )
