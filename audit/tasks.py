"""The audit log's scheduled work (Celery beat, see config/settings.py). Thin: each task runs
one service of audit.seals on the platform (``agency_id=None``): the services set each
chain's context themselves."""

from typing import Any

from celery import shared_task
from django.apps import apps
from django.conf import settings

from audit import retention
from audit.seals import services

SEAL_RETRIES = 8


class SealStoreDown(Exception):
    """Some seals could not be written: the task is retried, nothing is dropped."""


@shared_task(bind=True, acks_late=True, max_retries=SEAL_RETRIES)  # type: ignore[untyped-decorator]
def seal_chains(self: Any, *, agency_id: int | None = None) -> dict[str, int]:
    """Hourly: seal every chain whose head moved. A store that is down is retried with
    growing delays (1, 2, 4 ... minutes, at most 30), with an alert (log and Sentry) each
    time; when the retries run out the operators are emailed, and the next hourly run seals
    again. The retry is queued rather than raised, so this attempt's platform audit event
    (which names the failure) commits instead of rolling back with the task's transaction."""
    run = services.seal_chains()
    outcome = {
        "sealed": len(run.sealed),
        "unchanged": run.unchanged,
        "failed": len(run.failed),
        "problems": len(run.problems),
    }
    if run.failed:
        if self.request.retries >= SEAL_RETRIES:
            services.alert(
                "Audit seals could not be written: retries exhausted",
                ["The next hourly run will try again.", *run.failed],
            )
            return outcome
        self.retry(
            exc=SealStoreDown("; ".join(run.failed)),
            countdown=min(60 * 2**self.request.retries, 1800),
            throw=False,
        )
    return outcome


# Hours: longer than the broker's visibility timeout (config/jobs_settings.py), so it is
# acknowledged on receipt (never handed out twice); a killed run is redone the next night.
@shared_task(  # type: ignore[untyped-decorator]
    acks_late=False, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300
)
def verify_chains(*, agency_id: int | None = None) -> dict[str, int | bool]:
    """Nightly: audit_verify, recorded as a platform event; failures alert the operators."""
    result = services.nightly_verify()
    return {"ok": result.ok, "events": result.events, "seals": result.seals}


# May archive months of events: acknowledged on receipt, like verify_chains; redone the next day.
@shared_task(  # type: ignore[untyped-decorator]
    acks_late=False, soft_time_limit=2 * 3600, time_limit=2 * 3600 + 300
)
def maintain_retention(*, agency_id: int | None = None) -> int:
    """Daily: the next months' partitions, then every month past the year online archived
    to storage (verified) and dropped (audit/retention.py). Returns how many months were
    archived."""
    tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
    agency_ids = list(tenant_model.objects.order_by("pk").values_list("pk", flat=True))
    return len(retention.maintain(agency_ids))
