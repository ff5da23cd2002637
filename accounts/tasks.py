from typing import Unpack

from celery import shared_task
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from accounts import once
from accounts.access import agency_for_task
from accounts.jobs import Email
from accounts.services import form_submissions
from accounts.support import services as support_services
from accounts.tenancy import agency_context, for_each_active_agency


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(**email: Unpack[Email]) -> None:
    """Send one rendered email (accounts.jobs.send_email queues it)."""
    message = EmailMultiAlternatives(
        email["subject"],
        email["body"],
        email.get("from_email"),
        email["to"],
        reply_to=email.get("reply_to") or None,
    )
    if html_body := email.get("html_body"):
        message.attach_alternative(html_body, "text/html")
    message.send()


# The time (ISO 8601, UTC) the worker last ran beat's heartbeat: beat and a worker are alive.
BEAT_HEARTBEAT_KEY = "portal:beat-heartbeat"


@shared_task
def beat_heartbeat(*, agency_id=None) -> str:
    """Beat, every BEAT_HEARTBEAT_SECONDS (a minute): note the time in the cache."""
    now = timezone.now().isoformat()
    cache.set(BEAT_HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task
def queue_upkeep(*, agency_id=None) -> int:
    """Beat, hourly: forget the platform domain's sent forms whose tokens have expired, and
    send one ``forget_sent_forms`` per agency for theirs."""
    with agency_context(None, platform=True):
        form_submissions.form_submissions_forget(agency=None, before=timezone.now() - once.MAX_AGE)
    return for_each_active_agency(forget_sent_forms)


@shared_task
def forget_sent_forms(*, agency_id: int) -> int:
    """Delete the agency's sent-form claims whose tokens have expired (accounts.once)."""
    agency = agency_for_task(agency_id)
    return form_submissions.form_submissions_forget(
        agency=agency, before=timezone.now() - once.MAX_AGE
    )


@shared_task
def queue_support_expiries(*, agency_id=None) -> int:
    """Beat, every quarter hour, on the platform: one task per agency that writes down the end
    of support grants whose time is up (access itself ended at the expiry: every request
    checks the clock; this keeps the admins' pages and the audit log current even when
    nobody comes back)."""
    return for_each_active_agency(close_lapsed_support_grants)


@shared_task
def close_lapsed_support_grants(*, agency_id: int) -> int:
    return support_services.support_grants_close_lapsed(agency=agency_for_task(agency_id))
