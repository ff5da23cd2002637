"""Shared pieces of the single sign-on end-to-end tests (tests/accounts/test_sso_*.py): tenant
rows read and written under row-level security, the audit trail, and what a test client's
session says about who is signed in."""

from __future__ import annotations

import html
import re

from django.test import Client

from accounts.models import ExternalIdentity, IdentityProvider, Membership, User
from accounts.sso import config
from accounts.tenancy import agency_context
from audit.models import AuditEvent

SESSION_USER = "_auth_user_id"
GENERIC_SSO_ERROR = "We couldn't sign you in with that service."


def make_provider(
    agency,
    kind: str,
    *,
    settings: dict,
    name: str = "City sign-in",
    secret: str = "",
    provision_role: str = "",
    is_enabled: bool = True,
) -> IdentityProvider:
    """An identity provider row of ``agency``, as the admin pages would store it."""
    with agency_context(agency):
        provider = IdentityProvider(
            agency=agency,
            kind=kind,
            name=name,
            settings=settings,
            provision_role=provision_role,
            is_enabled=is_enabled,
        )
        if secret:
            config.set_secret(provider, secret)
        provider.save()
    return provider


def update_provider(provider: IdentityProvider, **fields) -> None:
    """Change columns of a provider row (``settings`` keys are merged)."""
    with agency_context(provider.agency):
        if "settings" in fields:
            provider.settings = {**provider.settings, **fields.pop("settings")}
        for name, value in fields.items():
            setattr(provider, name, value)
        provider.save()


def events(agency, action: str | None = None) -> list[AuditEvent]:
    """The agency's audit events, oldest first (optionally of one action)."""
    with agency_context(agency):
        found = AuditEvent.objects.filter(agency=agency).order_by("id")
        if action:
            found = found.filter(action=action)
        return list(found)


def actions(agency) -> list[str]:
    """The agency's audit actions in order, without the per-request page views."""
    return [e.action for e in events(agency) if e.action != "page.view"]


def failure_reasons(agency) -> list[str]:
    return [e.details.get("reason", "") for e in events(agency, "sso.failed")]


def identities(agency, provider: IdentityProvider | None = None) -> list[ExternalIdentity]:
    with agency_context(agency):
        found = ExternalIdentity.objects.filter(agency=agency).select_related("user")
        if provider is not None:
            found = found.filter(provider=provider)
        return list(found.order_by("id"))


def membership(agency, user: User) -> Membership | None:
    with agency_context(agency):
        return Membership.objects.filter(agency=agency, user=user).first()


def signed_in_user_id(client: Client) -> int | None:
    value = client.session.get(SESSION_USER)
    return int(value) if value is not None else None


def text(response) -> str:
    """The response body as a person reads it (HTML entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def anonymous_client(host: str) -> Client:
    """A browser that talks to ``host`` and, like a real one, gets a page for a server error
    instead of the exception (so a test can say "never a 500" and see the status)."""
    return Client(HTTP_HOST=host, raise_request_exception=False)


def explain(response) -> str:
    """For assertion messages: the exception behind a server error, else the page text."""
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        return f"HTTP {response.status_code}: {exc_info[0].__name__}: {exc_info[1]}"
    location = response.get("Location", "")
    return f"HTTP {response.status_code} {location} {text(response)[:1500]}"


def form_errors(response) -> str:
    """The text of a form page's error summary (empty when it shows none)."""
    found = re.search(r'class="error-summary"[^>]*>(.*?)</div>', text(response), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""
