"""An agency's sign-in options (identity providers): save, remove, and record a run of
"Test these settings".

A saved secret is never sent somewhere new: changing where an option connects
(``ENDPOINT_FIELDS``) needs the secret typed again. An SSO-only agency never loses its last
enabled option.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts import access, audit_events
from accounts.models import Agency, IdentityProvider, User
from accounts.services.errors import ServiceError, ServiceFieldError
from accounts.sso import config as sso_config
from accounts.tenancy import lock_tenant_row


class StepResult(Protocol):
    """One step of a settings test (accounts.sso.ldap_check.Step): only whether it passed
    is recorded, never its text (which may quote the directory)."""

    # Read-only, so a frozen dataclass (ldap_check.Step) matches.
    @property
    def ok(self) -> bool: ...


# What decides where a sign-in option sends its secret, and to whom: changing any of these
# needs the secret typed again.
ENDPOINT_FIELDS = {
    "ldap": ("server_uri", "bind_dn", "start_tls"),
    "google": ("issuer", "client_id", "tenant_id", "hosted_domain"),
    "microsoft": ("issuer", "client_id", "tenant_id", "hosted_domain"),
    "oidc": ("issuer", "client_id", "tenant_id", "hosted_domain"),
}
_SECRET_NAMES = {"ldap": ("bind_password", "service account password")}


def provider_save(
    *,
    agency: Agency,
    actor: User,
    kind: str,
    name: str,
    is_enabled: bool,
    provision_role: str,
    settings_data: dict[str, object],
    secret: str,
    provider: IdentityProvider | None = None,
    http_request: HttpRequest | None = None,
) -> IdentityProvider:
    """Create or update a sign-in option; a new secret is sealed, an empty one keeps the old
    only while the option still talks to the same place as the same client: changing where
    it connects (``ENDPOINT_FIELDS``) without the secret again is refused, so a saved secret
    is never sent somewhere new. Turning off the last option of an SSO-only agency is
    refused."""
    with transaction.atomic():
        if provider is None:
            provider = IdentityProvider(agency=agency, kind=kind)
            created = True
        else:
            provider = lock_tenant_row(provider)
            created = False
            if not secret and provider.sealed_secret:
                _refuse_keeping_secret_for_new_endpoint(provider, settings_data)
        if not is_enabled and provider.is_enabled and not provider._state.adding:
            _refuse_losing_last_option(agency, provider)
        provider.name = name
        provider.is_enabled = is_enabled
        provider.provision_role = provision_role or ""
        provider.settings = settings_data
        provider.updated_at = timezone.now()
        if secret:
            sso_config.set_secret(provider, secret)
        provider.save()
        audit.record(
            (audit_events.PROVIDER_CREATED if created else audit_events.PROVIDER_UPDATED).code,
            http_request=http_request,
            agency=agency,
            actor=actor,
            target=provider,
            details={
                "name": name,
                "kind": kind,
                "enabled": is_enabled,
                "secret_changed": bool(secret),
                # What changed is kept, except secrets (never in the log).
                "settings": {k: v for k, v in settings_data.items() if k != "role_mapping"},
                "role_mapping": settings_data.get("role_mapping", []),
            },
        )
    return provider


def _endpoint_value(value: object) -> bool | str:
    return value if isinstance(value, bool) else str(value or "").strip()


def _refuse_keeping_secret_for_new_endpoint(
    provider: IdentityProvider, settings_data: Mapping[str, object]
) -> None:
    fields = ENDPOINT_FIELDS.get(provider.kind, ())
    old = provider.settings or {}
    changed = [
        f
        for f in fields
        if _endpoint_value(old.get(f, False if f == "start_tls" else ""))
        != _endpoint_value(settings_data.get(f, False if f == "start_tls" else ""))
    ]
    if changed:
        field, label = _SECRET_NAMES.get(provider.kind, ("client_secret", "client secret"))
        raise ServiceFieldError(
            field,
            f"You changed where this option connects ({', '.join(changed)}). Enter the "
            f"{label} again, so the saved one is never sent somewhere new.",
        )


def _refuse_losing_last_option(agency: Agency, provider: IdentityProvider) -> None:
    if agency.staff_password_login:
        return
    others = access.enabled_providers(agency).exclude(pk=provider.pk)
    if not others.exists():
        raise ServiceError(
            "Staff can only sign in with single sign-on, and this is the last option. Turn "
            "password sign-in back on first."
        )


def provider_delete(
    *, provider: IdentityProvider, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        if provider.is_enabled:
            _refuse_losing_last_option(provider.agency, provider)
        audit.record(
            audit_events.PROVIDER_DELETED.code,
            http_request=http_request,
            agency=provider.agency,
            actor=actor,
            target=provider,
            details={"name": provider.name, "kind": provider.kind},
        )
        provider.delete()


def provider_tested(
    *,
    provider: IdentityProvider,
    actor: User,
    username: str,
    password_checked: bool,
    steps: Sequence[StepResult],
    http_request: HttpRequest | None = None,
) -> None:
    """Record a run of "Test these settings": the option, the person looked up, whether a
    password was tried (never the password) and whether each step passed."""
    audit.record(
        audit_events.PROVIDER_TESTED.code,
        http_request=http_request,
        agency=provider.agency,
        actor=actor,
        target=provider,
        details={
            "name": provider.name,
            "username": username[:200],
            "password_checked": password_checked,
            "steps": [bool(step.ok) for step in steps],
            "passed": bool(steps) and all(step.ok for step in steps),
        },
    )
