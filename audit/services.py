"""Writes of the audit app beyond the chain itself: recording that the log was exported."""

from collections.abc import Mapping

from django.db import transaction
from django.http import HttpRequest

import audit
from audit.models import AuditEvent
from audit.viewer_events import LOG_EXPORTED


def log_exported(
    *,
    agency_id: int,
    export_format: str,
    filters: Mapping[str, str],
    http_request: HttpRequest | None = None,
) -> AuditEvent:
    """Record a download of the agency's log (its format and the filters it used), in the
    request's transaction, before the first row is sent."""
    with transaction.atomic():
        return audit.record(
            LOG_EXPORTED.code,
            http_request=http_request,
            agency=agency_id,
            details={"format": export_format, "filters": dict(filters)},
        )
