from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Agencies and accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # checks and hooks register themselves; tasks register under their names (accounts.jobs)
        from accounts import checks, db_roles, signals, tasks  # noqa: F401

        post_migrate.connect(db_roles.grant_app_role, sender=self)
        _name_audit_targets()


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
