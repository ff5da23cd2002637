"""The self-scan's runner: run every registered check, store the run, record it in the
platform's audit chain and tell the operators (email to OPERATOR_EMAILS, a Sentry message,
an ERROR log line) about every check that did not pass."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import User
from accounts.tenancy import agency_context
from audit.seals.services import alert
from ops import audit_events
from ops.models import ScanRun
from ops.selfscan import ERROR, PASSED, STATUS_LABELS, CheckResult, checks, jobs, worst

log = logging.getLogger(__name__)


def _run_one(run: Callable[[], CheckResult]) -> CheckResult:
    try:
        return run()
    except Exception as error:  # a broken check must not stop the others
        log.exception("self-scan check failed")
        return CheckResult(ERROR, f"The check failed: {type(error).__name__}: {error}"[:300])


def self_scan_run(*, trigger: str, requested_by: User | None = None) -> ScanRun:
    """Run the scan now (in the caller's process) and return the stored run."""
    with agency_context(None, platform=True):
        run = ScanRun.objects.create(trigger=trigger, requested_by=requested_by)
    results = [_run_one(check.run).as_dict(check.name, check.label) for check in checks()]
    status = worst([str(r["status"]) for r in results])
    summary = ", ".join(f"{r['label']}: {STATUS_LABELS.get(str(r['status']))}" for r in results)
    with agency_context(None, platform=True):
        run.checks = results
        run.status = status
        run.finished_at = timezone.now()
        run.save(update_fields=["checks", "status", "finished_at"])
        audit.record(
            audit_events.SELF_SCAN_RUN.code,
            agency=None,
            actor=requested_by,
            details={"run": run.pk, "trigger": trigger, "status": status, "summary": summary},
        )
    if status != PASSED:
        lines = [f"Self-scan {run.pk} ({trigger}) at {run.started_at:%Y-%m-%d %H:%M} UTC:"]
        for result in results:
            if result["status"] == PASSED:
                continue
            lines.append("")
            lines.append(f"{result['label']}: {STATUS_LABELS.get(str(result['status']))}")
            lines.append(f"  {result['summary']}")
            lines.extend(f"  - {line}" for line in list(result["findings"])[:20])  # type: ignore[call-overload]
        alert(f"The self-scan reported: {STATUS_LABELS.get(status, status)}", lines)
    return run


def self_scan_request(*, operator: User, http_request: HttpRequest | None = None) -> None:
    """An operator asks for a scan now: recorded, and run by the worker (maintenance queue)."""
    with transaction.atomic():
        audit.record(
            audit_events.SELF_SCAN_REQUESTED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
        )
        jobs.self_scan(trigger=ScanRun.Trigger.OPERATOR, requested_by_id=operator.pk)
