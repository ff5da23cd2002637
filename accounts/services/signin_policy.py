"""The agency's sign-in policy (``SIGNIN_POLICY_FIELDS``: two-factor rules, password sign-in
for staff, session lengths). Password sign-in is never turned off while nobody on staff, or
the admin turning it off, could sign in another way."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts import access, audit_events
from accounts.models import SIGNIN_POLICY_FIELDS, Agency, User
from accounts.services.errors import ServiceError


def signin_policy_update(
    *,
    agency: Agency,
    actor: User,
    values: Mapping[str, object],
    http_request: HttpRequest | None = None,
) -> Agency:
    with transaction.atomic():
        # The agency row is the tenant itself (resolved from the host by the middleware),
        # locked so two admins changing sign-in settings run one after the other.
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        if not values.get("staff_password_login", agency.staff_password_login):
            if not access.enabled_providers(agency).exists():
                raise ServiceError(
                    "Add and turn on a single sign-on option before turning password sign-in "
                    "off, or nobody on staff could sign in."
                )
            if not access.can_sign_in_without_password(actor, agency):
                raise ServiceError(
                    "Link your own account to the agency's single sign-on first (Account > "
                    "Sign-in options), or you would lock yourself out."
                )
        changed: dict[str, dict[str, object]] = {}
        for field in SIGNIN_POLICY_FIELDS:
            if field in values and getattr(agency, field) != values[field]:
                changed[field] = {"from": getattr(agency, field), "to": values[field]}
                setattr(agency, field, values[field])
        if changed:
            agency.full_clean()
            agency.save(update_fields=list(changed))
            audit.record(
                audit_events.SIGNIN_POLICY_CHANGED.code,
                http_request=http_request,
                agency=agency,
                actor=actor,
                details={"changes": changed},
            )
    return agency
