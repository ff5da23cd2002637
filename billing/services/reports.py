"""The one write of the fee reports: the audit event of a download."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts.models import Agency, User
from audit.models import AuditEvent
from billing.report_events import FEE_REPORT_EXPORTED


def fee_report_exported(
    *,
    agency: Agency,
    actor: User,
    export_format: str,
    start: datetime.date,
    end: datetime.date,
    department: str = "",
    http_request: HttpRequest | None = None,
) -> AuditEvent:
    """Record that ``actor`` downloaded the fee report (its format, period and department
    filter), before the file is sent."""
    with transaction.atomic():
        return audit.record(
            FEE_REPORT_EXPORTED.code,
            http_request=http_request,
            agency=agency,
            actor=actor,
            details={
                "format": export_format,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "department": department,
            },
        )
