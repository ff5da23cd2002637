"""The platform's own operations data (not any agency's: no agency column, no row-level
security): a self-scan run (ops/selfscan/) with each check's result, and the incidents
operators post on the public status page (an outage, maintenance), for every agency alike."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ScanRun(models.Model):
    """One self-scan: when, why, and each check's result in ``checks``, a list of
    ``{"name", "label", "status", "summary", "findings": [...], "total"}`` (findings hold
    masked excerpts only)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Weekly schedule"
        OPERATOR = "operator", "An operator"
        COMMAND = "command", "Command line"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FINDINGS = "findings", "Findings"
        NOT_CHECKED = "not_checked", "Not checked"
        ERROR = "error", "Error"

    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    checks = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["-started_at"], name="scanrun_started")]

    def __str__(self) -> str:
        return f"self-scan {self.pk} ({self.status})"


class Incident(models.Model):
    class Status(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    title = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class ExpungeRequest(models.Model):
    """A customer's request that their agency be expunged (ops/expunge.py), recorded by one
    operator and approved by another (four eyes), then run by the worker.

    The agency is named by its id, slug and name, not a foreign key: the expunge deletes every
    row that refers to the agency, and this request is the platform's record of it afterwards.
    Its column is not called ``agency_id`` on purpose: it is no tenant row (no row-level
    security), it outlives the agency."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (Status.REQUESTED, Status.APPROVED, Status.RUNNING, Status.FAILED)

    agency_ref = models.BigIntegerField()
    agency_slug = models.CharField(max_length=63)
    agency_name = models.CharField(max_length=200)
    # The agency was active when the request was approved (and so deactivated by it): a
    # cancel before the run puts it back.
    deactivated_on_approval = models.BooleanField(default=False)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    customer_contact = models.CharField(max_length=200)
    reference = models.CharField(max_length=100)
    note = models.TextField(max_length=2000, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # The run: started (each attempt), the phase it is in, counts so far, the end.
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=20, blank=True)
    rows = models.JSONField(default=dict, blank=True)
    blobs_total = models.PositiveIntegerField(default=0)
    blobs_deleted = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One open request per agency (the service says so first, with a clear error).
            models.UniqueConstraint(
                fields=["agency_ref"],
                condition=models.Q(status__in=["requested", "approved", "running", "failed"]),
                name="expungerequest_one_open_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"expunge request {self.pk} for {self.agency_slug} ({self.status})"

    @property
    def rows_total(self) -> int:
        return sum(int(n) for n in self.rows.values())
