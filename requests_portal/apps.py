from django.apps import AppConfig


class RequestsPortalConfig(AppConfig):
    name = "requests_portal"
    verbose_name = "Records requests"

    def ready(self) -> None:
        # tasks register under their names (accounts.jobs.enqueue)
        from requests_portal import tasks  # noqa: F401

        _name_audit_targets()
        _renew_form_fragments_on_change()


def _renew_form_fragments_on_change() -> None:
    """What the request form's fields (or a kept staff form's: closure reasons) are made of
    changed: its cached fields go."""
    from django.db.models.signals import post_delete, post_save

    from requests_portal import form_fragments
    from requests_portal.models import (
        ClosureReason,
        CustomField,
        Department,
        RequestSettings,
        RequestType,
    )

    def renew(sender, instance, **kwargs) -> None:
        form_fragments.forget(instance.agency_id)

    for model in (RequestSettings, Department, RequestType, CustomField, ClosureReason):
        name = model._meta.label_lower
        post_save.connect(renew, sender=model, weak=False, dispatch_uid=f"form_fragments_{name}")
        post_delete.connect(renew, sender=model, weak=False, dispatch_uid=f"form_del_{name}")


def _name_audit_targets() -> None:
    """How the audit log names the requests its events are about."""
    from audit.registry import register_target_namer
    from requests_portal import access, audit_events  # noqa: F401 (event types register)

    register_target_namer(
        "requests_portal.recordsrequest", access.request_names, fallback="a request"
    )
