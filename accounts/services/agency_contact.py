"""The agency's public contact details (phone, email, address, office hours), its privacy
notice and its accessibility statement: what every page's footer, the privacy and
accessibility pages and the "too many attempts" messages show."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts import audit_events
from accounts.models import CONTACT_FIELDS, Agency, User

# The long texts are recorded as changed, never copied into the audit log in full.
_NOTICES = ("privacy_notice", "accessibility_statement")


def agency_contact_update(
    *,
    agency: Agency,
    actor: User,
    values: Mapping[str, str],
    http_request: HttpRequest | None = None,
) -> Agency:
    """Save the given CONTACT_FIELDS (others are ignored); one audit event naming what
    changed (short fields with their old and new values), none when nothing did."""
    with transaction.atomic():
        # The agency row is the tenant itself, locked so two admins saving at once run one
        # after the other and each event records what really changed.
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        changes: dict[str, object] = {}
        for field in CONTACT_FIELDS:
            if field not in values:
                continue
            new = (values[field] or "").strip()
            old = getattr(agency, field)
            if new == old:
                continue
            changes[field] = (
                {"changed": True, "length": len(new)}
                if field in _NOTICES
                else {"from": old, "to": new}
            )
            setattr(agency, field, new)
        if changes:
            agency.full_clean()
            agency.save(update_fields=list(changes))
            audit.record(
                audit_events.AGENCY_CONTACT_CHANGED.code,
                http_request=http_request,
                agency=agency,
                actor=actor,
                details={"what": ", ".join(_label(f) for f in changes), "changes": changes},
            )
    return agency


def _label(field: str) -> str:
    """The field as the admin page names it ("public phone number")."""
    model_field = Agency._meta.get_field(field)
    return str(getattr(model_field, "verbose_name", field)).lower()
