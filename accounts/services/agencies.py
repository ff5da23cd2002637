"""Platform operators' writes to agencies: creating one, with the storage location where its
documents, escrow keys, audit archives live (data sovereignty, issue 13).

A location is chosen at creation and stays: once the agency has any blob (its first upload
makes its escrow key), moving it would leave data behind in the old location, so a change is
refused. Moving an agency's data between locations is an operation of its own, not built.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest

import audit
from accounts import audit_events
from accounts.models import Agency, User, validate_time_zone
from accounts.services.errors import ServiceError, ServiceFieldError
from accounts.support.access import is_operator
from accounts.tenancy import agency_context
from vault import locations

# A DNS label: the agency's site is <slug>.<PORTAL_BASE_DOMAIN>.
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _require_operator(operator: User) -> None:
    if not is_operator(operator):
        raise ServiceError("Only platform operators can create agencies.")


def _known_location(name: str) -> locations.Location:
    try:
        return locations.location(name)
    except locations.UnknownLocation:
        raise ServiceFieldError(
            "storage_location", f"{name!r} is not a storage location of this deployment."
        ) from None


def agency_create(
    *,
    operator: User,
    slug: str,
    name: str,
    time_zone: str,
    storage_location: str,
    http_request: HttpRequest | None = None,
) -> Agency:
    """Create an agency in ``storage_location``; one platform audit event (who, which
    location). Raises ServiceFieldError for a taken or malformed slug, an unknown time zone or
    location; nothing is written then."""
    _require_operator(operator)
    slug = slug.strip().lower()
    name = name.strip()
    if not SLUG.match(slug):
        raise ServiceFieldError(
            "slug", "Use lower-case letters, digits and hyphens (not at the start or end)."
        )
    if not name:
        raise ServiceFieldError("name", "Give the agency's name.")
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        raise ServiceFieldError("time_zone", error.messages[0]) from None
    where = _known_location(storage_location)
    try:
        with agency_context(None, platform=True):
            if Agency.objects.filter(slug=slug).exists():
                raise ServiceFieldError("slug", "An agency already has this address.")
            agency = Agency(slug=slug, name=name, time_zone=time_zone, storage_location=where.name)
            agency.full_clean()
            agency.save()
            audit.record(
                audit_events.AGENCY_CREATED.code,
                http_request=http_request,
                agency=None,  # the platform's chain: the agency's own starts with its first act
                actor=operator,
                target=agency,
                details={
                    "slug": slug,
                    "name": name,
                    "storage_location": where.name,
                    "location_label": where.label,
                },
            )
    except IntegrityError:  # the same slug created at the same moment
        raise ServiceFieldError("slug", "An agency already has this address.") from None
    return agency


def agency_storage_location_change(
    *,
    operator: User,
    agency: Agency,
    storage_location: str,
    http_request: HttpRequest | None = None,
) -> Agency:
    """Correct the location of an agency that has stored nothing yet (a mistake at creation);
    refused with ServiceError once it has any blob, in its location or anywhere."""
    _require_operator(operator)
    where = _known_location(storage_location)
    with agency_context(None, platform=True):
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        if agency.storage_location == where.name:
            return agency
        # Every location is looked at: a blob must never be left where the agency is not.
        if any(locations.agency_has_blobs(loc, agency.pk) for loc in locations.locations()):
            raise ServiceError(
                "This agency already has documents or keys stored in its location; its "
                "location cannot be changed (moving stored data between locations is a "
                "separate operation)."
            )
        old = agency.storage_location
        agency.storage_location = where.name
        agency.save(update_fields=["storage_location"])
        audit.record(
            audit_events.AGENCY_LOCATION_CHANGED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=agency,
            details={"slug": agency.slug, "from": old, "to": where.name},
        )
    return agency
