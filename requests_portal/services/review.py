"""Personal data in what the public would read: a request whose title or description holds
some (``requests_portal.privacy.personal_data_kinds``) is held from every public page, the
archive and its search until staff review the description, edit out what must not be
public, and publish it.

Held when filed with a public visibility (services.submission), when staff make an
unreviewed request public (services.lifecycle.request_set_visibility), and, for requests public
before this check existed, by ``manage.py hold_personal_data``."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from requests_portal import audit_events, privacy
from requests_portal.access import public_requests
from requests_portal.models import RecordsRequest
from requests_portal.services.changes import RequestStateError, add_timeline_event, locked


def record_hold(
    records_request: RecordsRequest, *, actor: User | None, http_request: HttpRequest | None
) -> None:
    """The staff-only timeline entry and audit event of a hold (the kinds of data found,
    never the values: the audit log cannot be erased)."""
    found = privacy.kinds_label(records_request.personal_data_kinds)
    add_timeline_event(
        records_request,
        "description_held",
        None,
        f"Kept from the public until staff review it: it may contain {found}",
        public=False,
        data={"kinds": records_request.personal_data_kinds},
    )
    audit.record_for(
        audit_events.REQUEST_DESCRIPTION_HELD,
        records_request,
        actor=actor,
        http_request=http_request,
        number=records_request.number,
        kinds=records_request.personal_data_kinds,
        found=found,
    )


def hold_if_unreviewed(
    records_request: RecordsRequest, *, actor: User | None, http_request: HttpRequest | None
) -> bool:
    """Hold a request that is (about to become) public when its text holds personal data
    that staff have not reviewed yet; whether it was held now. The caller holds the
    request's row lock and saves it."""
    if records_request.description_held or records_request.description_reviewed_at is not None:
        return False
    if not privacy.is_public(records_request.visibility):
        return False
    records_request.personal_data_kinds = privacy.personal_data_kinds(
        records_request.title, records_request.description
    )
    if not records_request.personal_data_kinds:
        return False
    records_request.description_held = True
    record_hold(records_request, actor=actor, http_request=http_request)
    return True


@locked
def _hold_one(*, records_request: RecordsRequest) -> bool:
    if not hold_if_unreviewed(records_request, actor=None, http_request=None):
        return False
    records_request.save(update_fields=["description_held", "personal_data_kinds", "updated_at"])
    return True


def requests_hold_unreviewed(*, agency: Agency) -> int:
    """Hold every public request of the agency whose text holds personal data nobody has
    reviewed: those made public before descriptions were checked (``manage.py
    hold_personal_data``), each under its row lock; running it again holds no more."""
    candidates = (
        public_requests(agency)
        .filter(description_reviewed_at__isnull=True)
        .values_list("pk", flat=True)
    )
    held = 0
    for pk in list(candidates):
        records_request = RecordsRequest.objects.get(agency=agency, pk=pk)
        held += _hold_one(records_request=records_request)
    return held


@locked
def request_release_description(
    *,
    records_request: RecordsRequest,
    actor: User,
    description: str,
    http_request: HttpRequest | None = None,
) -> None:
    """Staff reviewed the held description (``description``: as they leave it, edited or
    not) and publish it: the request is public again as its visibility says."""
    if not records_request.description_held:
        raise RequestStateError("This request is not held for review.")
    description = description.strip()
    if not description:
        raise RequestStateError("The description cannot be empty.")
    edited = description != records_request.description.strip()
    with transaction.atomic():
        records_request.description = description
        records_request.description_held = False
        records_request.description_reviewed_at = timezone.now()
        # What is left after the review (the staff member chose to publish it).
        records_request.personal_data_kinds = privacy.personal_data_kinds(
            records_request.title, description
        )
        records_request.save(
            update_fields=[
                "description",
                "description_held",
                "description_reviewed_at",
                "personal_data_kinds",
                "updated_at",
            ]
        )
        add_timeline_event(
            records_request,
            "description_released",
            actor,
            "Description edited after review and published"
            if edited
            else "Description reviewed and published",
            public=False,
            data={"edited": edited},
        )
        audit.record_for(
            audit_events.REQUEST_DESCRIPTION_RELEASED,
            records_request,
            actor=actor,
            http_request=http_request,
            number=records_request.number,
            edited=edited,
            remaining=records_request.personal_data_kinds,
        )
