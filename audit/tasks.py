"""Background work of the audit log: its retention (beat, daily)."""

from __future__ import annotations

from celery import shared_task
from django.apps import apps
from django.conf import settings

from audit import retention


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def maintain_retention(*, agency_id: int | None = None) -> int:
    """Beat, daily: the next months' partitions, then every month past the year online
    archived to storage (verified) and dropped. Returns how many months were archived.
    ``agency_id`` is unused (every chain is archived together, month by month)."""
    tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
    agency_ids = list(tenant_model.objects.order_by("pk").values_list("pk", flat=True))
    return len(retention.maintain(agency_ids))
