"""A resident's download of their own data. Not a tenant table: the export spans every
agency the person filed with, and belongs to the person (only they read it)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportStatus(models.TextChoices):
    ASKED = "asked", "Asked"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class DataExport(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.ASKED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    # The zip's ciphertext in the documents store, and its data key sealed with the master
    # keyring (bound to this export's id).
    storage_name = models.CharField(max_length=200, blank=True)
    sealed_key = models.BinaryField(blank=True, default=b"")
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="data_export_user")]

    def __str__(self) -> str:
        return f"export {self.public_id}"
