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
