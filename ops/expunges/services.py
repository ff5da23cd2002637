"""Expunge requests' status changes, each in one transaction with its platform audit event:

    requested ──approve (another operator, the slug typed)──▶ approved ──▶ running ──▶ done
        │                                                        │            │
        └──────────────cancel (before it runs)──────────▶ cancelled          └──▶ failed ─┐
                                                                              ▲  run again │
                                                                              └────────────┘

The agency keeps serving while its request waits for approval (the request may be cancelled,
or be a mistake). The approval deactivates it in the same transaction: its public and staff
pages answer 404 from then on, so nothing new is written while the worker expunges it; a
cancel before the run makes it active again if the approval was what deactivated it.

The run (``expunge_request_run``, the task) is the expunge of ops/expunge.py as the tables'
owner (``owner.run_as_owner``), under a PostgreSQL advisory lock per request: a task
delivered twice, a second "run again" or a redelivery after a killed worker never runs two
expunges at once, and a run finds the state the last one left (the agency's rows gone with
their counts on the request, or its blobs listed in the ledger) and finishes from there.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from accounts.tenancy import agency_context
from audit.seals.services import alert
from ops import audit_events
from ops.expunge import ExpungeError, ExpungeResult, expunge_agency
from ops.expunges import jobs
from ops.expunges.owner import run_as_owner
from ops.models import ExpungeRequest

log = logging.getLogger(__name__)

Status = ExpungeRequest.Status
# A run that has shown no progress for this long may be sent again (its worker was killed
# and the broker did not hand its task out again). A live run holds the request's lock, so a
# second one would only find it busy.
STALE_AFTER = timedelta(minutes=15)
# Advisory lock class of expunge runs (the key's first half; the request id is the second).
_LOCK_CLASS = 0x0E05
_PROGRESS_EVERY = 1.0  # seconds between two writes of the blob count


class ExpungeRequestError(Exception):
    """The change was refused; nothing changed. ``field`` names the form's field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _details(request: ExpungeRequest, **more: Any) -> dict[str, Any]:
    return {
        "request": request.pk,
        "agency_id": request.agency_ref,
        "slug": request.agency_slug,
        **more,
    }


def _locked(request_id: int) -> ExpungeRequest:
    found = ExpungeRequest.objects.select_for_update().filter(pk=request_id).first()
    if found is None:
        raise ExpungeRequestError("There is no such expunge request.")
    return found


def expunge_request_create(
    *,
    operator: User,
    agency_id: int,
    customer_contact: str,
    reference: str,
    note: str = "",
    http_request: HttpRequest | None = None,
) -> ExpungeRequest:
    """Record a customer's request to expunge their agency (nothing happens to the agency)."""
    with agency_context(None, platform=True):
        agency = Agency.objects.select_for_update().filter(pk=agency_id).first()
        if agency is None:
            done = ExpungeRequest.objects.filter(agency_ref=agency_id, status=Status.DONE).first()
            if done is not None:
                raise ExpungeRequestError(
                    f"The agency {done.agency_slug} was already expunged (request {done.pk}).",
                    field="agency",
                )
            raise ExpungeRequestError(
                "There is no such agency: it is unknown, or was already expunged.", field="agency"
            )
        open_one = ExpungeRequest.objects.filter(
            agency_ref=agency.pk, status__in=ExpungeRequest.OPEN
        ).first()
        if open_one is not None:
            raise ExpungeRequestError(
                f"The agency {agency.slug} already has an open expunge request "
                f"({open_one.pk}, {open_one.get_status_display().lower()}): finish or cancel "
                "that one.",
                field="agency",
            )
        request = ExpungeRequest.objects.create(
            agency_ref=agency.pk,
            agency_slug=agency.slug,
            agency_name=agency.name,
            customer_contact=customer_contact.strip(),
            reference=reference.strip(),
            note=note.strip(),
            requested_by=operator,
        )
        audit.record(
            audit_events.EXPUNGE_REQUESTED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=request,
            details=_details(request, reference=request.reference),
        )
    return request


def expunge_request_approve(
    *,
    operator: User,
    request_id: int,
    confirm_slug: str,
    http_request: HttpRequest | None = None,
) -> ExpungeRequest:
    """A second operator approves: the agency is deactivated and the expunge sent to the
    worker when this commits."""
    with agency_context(None, platform=True):
        request = _locked(request_id)
        if request.status != Status.REQUESTED:
            raise ExpungeRequestError(
                f"This request is {request.get_status_display().lower()}: only a request "
                "waiting for approval can be approved."
            )
        if request.requested_by_id == operator.pk:
            raise ExpungeRequestError(
                "You recorded this request: another operator must approve it (four eyes)."
            )
        if confirm_slug.strip() != request.agency_slug:
            raise ExpungeRequestError(
                f"That is not the agency's slug. Type {request.agency_slug} exactly to approve; "
                "nothing was changed.",
                field="confirm",
            )
        agency = Agency.objects.select_for_update().filter(pk=request.agency_ref).first()
        if agency is None or agency.slug != request.agency_slug:
            raise ExpungeRequestError(
                "The agency no longer exists as recorded; cancel this request."
            )
        if agency.is_active:
            agency.is_active = False
            agency.save(update_fields=["is_active"])
            request.deactivated_on_approval = True
        request.status = Status.APPROVED
        request.approved_by = operator
        request.approved_at = timezone.now()
        request.save(
            update_fields=["status", "approved_by", "approved_at", "deactivated_on_approval"]
        )
        audit.record(
            audit_events.EXPUNGE_APPROVED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=request,
            details=_details(request, deactivated=request.deactivated_on_approval),
        )
        jobs.run_expunge(request_id=request.pk)
    return request


def expunge_request_cancel(
    *, operator: User, request_id: int, http_request: HttpRequest | None = None
) -> ExpungeRequest:
    """Cancel before the run starts; an agency the approval deactivated is active again."""
    with agency_context(None, platform=True):
        request = _locked(request_id)
        if request.status not in (Status.REQUESTED, Status.APPROVED):
            raise ExpungeRequestError(
                f"This request is {request.get_status_display().lower()}: only a request that "
                "has not started can be cancelled."
            )
        reactivated = False
        if request.deactivated_on_approval:
            reactivated = bool(
                Agency.objects.filter(pk=request.agency_ref, is_active=False).update(is_active=True)
            )
        request.status = Status.CANCELLED
        request.cancelled_by = operator
        request.cancelled_at = timezone.now()
        request.save(update_fields=["status", "cancelled_by", "cancelled_at"])
        audit.record(
            audit_events.EXPUNGE_CANCELLED.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=request,
            details=_details(request, reactivated=reactivated),
        )
    return request


def can_run_again(request: ExpungeRequest, now: Any = None) -> bool:
    """Failed, or approved or running with no progress for STALE_AFTER."""
    if request.status == Status.FAILED:
        return True
    if request.status not in (Status.APPROVED, Status.RUNNING):
        return False
    last = request.progress_at or request.approved_at
    return last is not None and (now or timezone.now()) - last > STALE_AFTER


def expunge_request_rerun(
    *, operator: User, request_id: int, http_request: HttpRequest | None = None
) -> ExpungeRequest:
    """Send a failed (or stalled) request's expunge to the worker again; it resumes."""
    with agency_context(None, platform=True):
        request = _locked(request_id)
        if not can_run_again(request):
            raise ExpungeRequestError(
                "Only a failed request, or one that has shown no progress for "
                f"{int(STALE_AFTER.total_seconds() // 60)} minutes, can be run again."
            )
        audit.record(
            audit_events.EXPUNGE_RERUN.code,
            http_request=http_request,
            agency=None,
            actor=operator,
            target=request,
            details=_details(request, status=request.status),
        )
        jobs.run_expunge(request_id=request.pk)
    return request


# --- The run (the worker) --------------------------------------------------------------------


def expunge_request_run(request_id: int) -> str:
    """The task's work: the expunge as the tables' owner. Returns the request's status after
    the run, or "busy" when another run of it holds its lock."""
    return run_as_owner(lambda: _run_locked(request_id))


def _run_locked(request_id: int) -> str:
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- session advisory lock; bound parameters
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, request_id])
        (got,) = cursor.fetchone()
    if not got:
        return "busy"
    try:
        return _run(request_id)
    finally:
        with connection.cursor() as cursor:
            # nosemgrep: portal-raw-sql -- releases the lock taken above; bound parameters
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, request_id])


def _run(request_id: int) -> str:
    with agency_context(None, platform=True):
        request = ExpungeRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            return "missing"
        if request.status not in (Status.APPROVED, Status.RUNNING, Status.FAILED):
            return str(request.status)  # cancelled, done, or never approved: nothing to do
        request.status = Status.RUNNING
        request.attempts += 1
        request.started_at = request.started_at or timezone.now()
        request.progress_at = timezone.now()
        request.phase = request.phase or "rows"
        request.error = ""
        request.save(
            update_fields=["status", "attempts", "started_at", "progress_at", "phase", "error"]
        )
        audit.record(
            audit_events.EXPUNGE_STARTED.code,
            agency=None,
            actor=None,
            target=request,
            details=_details(request, attempt=request.attempts),
        )
    try:
        same_slug = Agency.objects.filter(slug=request.agency_slug).first()
        if same_slug is not None and same_slug.pk != request.agency_ref:
            raise ExpungeError(
                f"another agency (id {same_slug.pk}) now has the slug {request.agency_slug}"
            )
        result = expunge_agency(
            request.agency_slug,
            actor_id=request.approved_by_id,
            details={"request": request.pk},
            progress=_Progress(request),
        )
    except ExpungeError as error:
        request.refresh_from_db()
        if request.rows and request.phase == "blobs":
            # An earlier run deleted the rows (their counts committed with them) and its
            # blobs and ledger too, but stopped before it could say so.
            return _finish(request, None)
        return _fail(request, str(error))
    except Exception as error:
        log.exception("expunge run failed", extra={"request": request.pk})
        return _fail(request, f"{type(error).__name__}: {error}")
    return _finish(request, result)


class _Progress:
    """Writes the counts so far on the request (ops.expunge.Progress)."""

    def __init__(self, request: ExpungeRequest) -> None:
        self.request_id = request.pk
        self.before = request.blobs_deleted
        self.last = 0.0

    def rows_deleted(self, result: ExpungeResult, blobs_total: int) -> None:
        ExpungeRequest.objects.filter(pk=self.request_id).update(
            rows=result.rows,
            blobs_total=blobs_total,
            phase="blobs",
            progress_at=timezone.now(),
        )

    def blobs_progress(self, handled: int, total: int, deleted: dict[str, int]) -> None:
        now = time.monotonic()
        if handled < total and now - self.last < _PROGRESS_EVERY:
            return
        self.last = now
        ExpungeRequest.objects.filter(pk=self.request_id).update(
            phase="blobs",
            blobs_total=total if total else 0,
            blobs_deleted=self.before + sum(deleted.values()),
            progress_at=timezone.now(),
        )


def _finish(request: ExpungeRequest, result: ExpungeResult | None) -> str:
    with agency_context(None, platform=True):
        request = ExpungeRequest.objects.select_for_update().get(pk=request.pk)
        if result is not None and not result.finished_earlier_run:
            request.rows = result.rows
        request.status = Status.DONE
        request.phase = ""
        request.finished_at = timezone.now()
        request.progress_at = request.finished_at
        request.save(
            update_fields=["rows", "blobs_deleted", "status", "phase", "finished_at", "progress_at"]
        )
        audit.record(
            audit_events.EXPUNGE_FINISHED.code,
            agency=None,
            actor=None,
            target=request,
            details=_details(
                request,
                rows=request.rows_total,
                blobs=request.blobs_deleted,
                attempts=request.attempts,
            ),
        )
    return str(Status.DONE)


def _fail(request: ExpungeRequest, reason: str) -> str:
    reason = reason[:1000]
    with agency_context(None, platform=True):
        request = ExpungeRequest.objects.select_for_update().get(pk=request.pk)
        request.status = Status.FAILED
        request.error = reason
        request.progress_at = timezone.now()
        request.save(update_fields=["status", "error", "progress_at"])
        audit.record(
            audit_events.EXPUNGE_FAILED.code,
            agency=None,
            actor=None,
            target=request,
            details=_details(request, error=reason),
        )
    alert(
        "An agency's expunge failed",
        [f"Expunge request {request.pk} of the agency {request.agency_slug}: {reason}"],
    )
    return str(Status.FAILED)
