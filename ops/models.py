"""The platform's own operations data (not any agency's: no agency column, no row-level
security). A self-scan run (ops/selfscan/) with each check's result."""

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
