"""A staff member's own choices in an agency: which staff emails they get."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts.models import Agency, User
from requests_portal import access, audit_events
from requests_portal.models import NotificationPreference


def notification_preferences_update(
    *,
    agency: Agency,
    actor: User,
    choices: dict[str, bool],
    http_request: HttpRequest | None = None,
) -> NotificationPreference:
    """Save the actor's own email choices (``choices``: preference field → wanted). Nothing
    is written when nothing changed: a missing row means the defaults."""
    preferences = access.notification_preferences_for(actor, agency)
    changed = {
        field: [getattr(preferences, field), wanted]
        for field, wanted in choices.items()
        if getattr(preferences, field) != wanted
    }
    if not changed:
        return preferences
    with transaction.atomic():
        for field, wanted in choices.items():
            setattr(preferences, field, wanted)
        preferences.save()
        audit.record(
            audit_events.NOTIFICATION_PREFERENCES_CHANGED.code,
            http_request=http_request,
            agency=agency,
            actor=actor,
            details={"changed": changed},
        )
    return preferences
