from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Agencies and accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # checks and hooks register themselves; tasks register under their names (accounts.jobs)
        from accounts import checks, db_roles, signals, tasks  # noqa: F401

        post_migrate.connect(db_roles.grant_app_role, sender=self)
        _clear_host_cache_on_change()
        _name_audit_targets()


def _clear_host_cache_on_change() -> None:
    """A saved or deleted agency is forgotten by this process's host cache at once."""
    from django.db.models.signals import post_delete, post_save

    from accounts import host_cache
    from accounts.models import Agency

    def forget(sender, **kwargs) -> None:
        host_cache.clear()

    post_save.connect(forget, sender=Agency, weak=False, dispatch_uid="host_cache_save")
    post_delete.connect(forget, sender=Agency, weak=False, dispatch_uid="host_cache_delete")


def _name_audit_targets() -> None:
    """How the audit log names the accounts rows its events are about."""
    from accounts import access, audit_events  # noqa: F401 (event types register on import)
    from accounts.support import access as support_access
    from accounts.support import events  # noqa: F401 (support access's event types)
    from audit.registry import register_target_namer

    register_target_namer("accounts.membership", access.member_names, fallback="")
    register_target_namer("accounts.user", access.person_names, fallback="")
    register_target_namer(
        "accounts.invitation", access.invitation_addresses, fallback="an invitation"
    )
    register_target_namer(
        support_access.GRANT_TARGET, support_access.grant_names, fallback="a support access grant"
    )
