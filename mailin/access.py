"""Tenant reads of replies by email: the request a reply address names (in its agency's
context: another agency's request is not found), the emails already accepted, the agencies'
mailboxes."""

from __future__ import annotations

from accounts.models import Agency, User
from mailin.models import InboundMail, Mailbox
from requests_portal.models import RecordsRequest


def active_agency(agency_id: int) -> Agency | None:
    """The agency a reply address names, if it still takes requests."""
    return Agency.objects.filter(pk=agency_id, is_active=True).first()


def request_for_reply(agency: Agency, request_id: int) -> RecordsRequest | None:
    """The request of ``agency`` a reply address names; None for another agency's (or none)."""
    return (
        RecordsRequest.objects.filter(agency=agency, pk=request_id)
        .select_related("agency", "requester")
        .first()
    )


def recipient(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def already_accepted(records_request: RecordsRequest, message_id_digest: str) -> bool:
    return InboundMail.objects.filter(
        agency=records_request.agency_id,
        request=records_request,
        message_id_digest=message_id_digest,
    ).exists()


def mailbox_of(agency: Agency) -> Mailbox | None:
    return Mailbox.objects.filter(agency=agency).first()
