"""The platform's own tables of the ops app: status incidents (issue 13, monitoring).

``Incident`` is a platform table, not tenant-owned: a note the platform's operators post on
the public status page (an outage, maintenance), for every agency alike; no agency column."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
