"""An agency admin's document settings and redaction reasons (one transaction each, with
its audit event)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.http import HttpRequest

import audit
from accounts.models import Agency, User
from documents import audit_events
from documents.errors import DocumentError
from documents.models import DocumentSettings, RedactionReason


def settings_save(
    *,
    agency: Agency,
    actor: User,
    values: Mapping[str, object],
    http_request: HttpRequest | None = None,
) -> DocumentSettings:
    with transaction.atomic():
        row, _ = DocumentSettings.objects.select_for_update().get_or_create(agency=agency)
        changes: dict[str, dict[str, object]] = {}
        for field, value in values.items():
            if getattr(row, field) != value:
                changes[field] = {"from": getattr(row, field), "to": value}
                setattr(row, field, value)
        if changes:
            row.full_clean()
            row.save()
            audit.record(
                audit_events.SETTINGS_CHANGED.code,
                http_request=http_request,
                agency=agency,
                actor=actor,
                details={"changes": changes},
            )
    return row


def reason_add(
    *, agency: Agency, actor: User, label: str, http_request: HttpRequest | None = None
) -> RedactionReason:
    label = label.strip()
    try:
        with transaction.atomic():
            reason = RedactionReason.objects.create(agency=agency, label=label)
            audit.record(
                audit_events.SETTINGS_CHANGED.code,
                http_request=http_request,
                agency=agency,
                actor=actor,
                details={"redaction_reason_added": label},
            )
    except IntegrityError:
        raise DocumentError("That reason is already in the list.") from None
    return reason


def reason_retire(
    *, reason: RedactionReason, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        reason.is_active = False
        reason.save(update_fields=["is_active"])
        audit.record(
            audit_events.SETTINGS_CHANGED.code,
            http_request=http_request,
            agency=reason.agency_id,
            actor=actor,
            details={"redaction_reason_retired": reason.label},
        )


# Plain, generic wording of the usual public-records exemptions, so "Redact" works from an
# agency's first day; the agency adds its own citations and retires what its law lacks.
DEFAULT_REDACTION_REASONS = (
    "Personal privacy",
    "Ongoing investigation",
    "Attorney-client privilege",
    "Security-sensitive information",
    "Medical information",
    "Juvenile records",
    "Trade secrets or confidential business information",
    "Internal deliberations (drafts and advice)",
)


def reasons_setup_defaults(*, agency: Agency, actor: User | None = None) -> int:
    """Give an agency the usual redaction reasons. Adds only labels it has never had, so a
    reason the agency retired stays retired. Returns how many were added."""
    with transaction.atomic():
        existing = set(
            RedactionReason.objects.filter(agency=agency).values_list("label", flat=True)
        )
        new = [
            RedactionReason(agency=agency, label=label)
            for label in DEFAULT_REDACTION_REASONS
            if label not in existing
        ]
        RedactionReason.objects.bulk_create(new)
        if new and actor is not None:
            audit.record(
                audit_events.SETTINGS_CHANGED.code,
                agency=agency,
                actor=actor,
                details={"redaction_reasons_added": len(new)},
            )
    return len(new)
