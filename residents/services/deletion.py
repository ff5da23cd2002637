"""A resident deletes their account.

The account stays as a row (the audit log and the requests point at it) but is deactivated
and emptied: name, phone and language wiped, the email replaced by a unique placeholder, no
usable password, its sign-in links removed, its sessions ended, its data downloads deleted.
Every request they filed keeps its place and its publication with the requester removed
(requester and their name, email, phone and address blanked), agency by agency in that
agency's row-level-security context, each agency recording it on its own chain; the platform
chain records the deletion with the counts.

Staff accounts are closed by their agency's admins (accounts.services.members), never here.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts.models import Agency, EmailChange, ExternalIdentity, Membership, User
from accounts.signin import sessions
from accounts.tenancy import agency_context
from requests_portal.models import RecordsRequest
from residents import audit_events
from residents.models import DataExport
from residents.services.exports import EXPORT_LOCATION
from vault.locations import documents_store


class StaffAccount(Exception):
    """A person with an active membership in an agency: their admins close the account."""


def is_staff_account(user: User) -> bool:
    return any(
        _active_membership(user, agency) for agency in Agency.objects.only("pk").order_by("pk")
    )


def _active_membership(user: User, agency: Agency) -> bool:
    with agency_context(agency):
        return Membership.objects.filter(agency=agency, user=user, is_active=True).exists()


def _remove_requester(user: User, agency: Agency) -> int:
    with agency_context(agency):
        count = RecordsRequest.objects.filter(agency=agency, requester=user).update(
            requester=None,
            requester_name="",
            requester_email="",
            requester_phone="",
            requester_address="",
        )
        ExternalIdentity.objects.filter(agency=agency, user=user).delete()
        if count:
            audit.record(
                audit_events.REQUESTER_REMOVED.code,
                agency=agency,
                actor=user,
                details={"requests": count},
            )
    return count


def account_delete(*, user: User, http_request: HttpRequest) -> int:
    """Delete the person's account as described above; returns how many requests were kept
    without their details. Raises StaffAccount for staff. The platform event names the host
    the person asked from (its agency's own chain would be the wrong place for it)."""
    store = documents_store(EXPORT_LOCATION)
    with transaction.atomic():
        if is_staff_account(user):
            raise StaffAccount
        kept = sum(_remove_requester(user, agency) for agency in Agency.objects.order_by("pk"))
        for export in DataExport.objects.filter(user=user):
            if export.storage_name and store.exists(export.storage_name):
                store.delete(export.storage_name)
        DataExport.objects.filter(user=user).delete()
        EmailChange.objects.filter(user=user).delete()
        ended = sessions.end_all(user, reason="account deleted", everywhere=True)
        user.full_name = ""
        user.phone = ""
        user.language = ""
        user.email = f"deleted-{uuid.uuid4().hex}@deleted.invalid"
        user.is_active = False
        user.set_unusable_password()
        user.save(
            update_fields=["full_name", "phone", "language", "email", "is_active", "password"]
        )
        with agency_context(None, platform=True):
            audit.record(
                audit_events.ACCOUNT_DELETED.code,
                agency=None,
                actor=user,
                details={
                    "requests": kept,
                    "sessions_ended": ended,
                    "host": http_request.get_host(),
                },
            )
    return kept
