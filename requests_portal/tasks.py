"""Scheduled work of the requests app. Thin: the work is in notifications and services."""

from celery import shared_task
from django.utils import timezone

from accounts.access import agency_for_task
from accounts.tenancy import for_each_active_agency
from requests_portal import notifications
from requests_portal.services import clock, lifecycle


@shared_task
def queue_daily_digests(*, agency_id=None) -> int:
    """Beat, once a day, on the platform (agency_id None): one digest task per agency."""
    return for_each_active_agency(send_agency_digest)


@shared_task
def send_agency_digest(*, agency_id: int) -> int:
    agency = agency_for_task(agency_id)
    calendar = clock.calendar_for(agency, clock.settings_for(agency))
    return notifications.send_digests(agency, calendar, timezone.now())


@shared_task
def queue_embargo_publication(*, agency_id=None) -> int:
    """Beat, hourly, on the platform: one publication task per agency."""
    return for_each_active_agency(publish_embargoes)


@shared_task
def publish_embargoes(*, agency_id: int) -> int:
    return lifecycle.publish_due_embargoes(agency=agency_for_task(agency_id))
