"""The audit log: one append-only, hash-chained table for every agency.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE on it (a trigger, and the app role is granted
only SELECT and INSERT), whatever the ORM tries. Each agency has its own SHA-256 chain (the
platform has one more, for events with no agency); see audit/chain.py.
"""

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    # Plain references without database constraints: an append-only row must never block,
    # or be removed by, the deletion of what it describes (an expunged agency, a user).
    agency = models.ForeignKey(
        settings.PORTAL_TENANT_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    acting_as_grant_id = models.BigIntegerField(
        null=True, blank=True, help_text="Support-access grant the actor used, if any"
    )
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(help_text="Database clock (UTC) when the event was chained")
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table_comment = "append-only: UPDATE, DELETE and TRUNCATE are refused"
        indexes = [
            # The chain head (newest event of an agency) is read on every append.
            models.Index(fields=["agency", "-id"], name="audit_agency_head"),
            # The viewer pages newest first by the key (created_at, id), with no OFFSET: each
            # filter has an index that ends in the key, so a page is one range read.
            models.Index(fields=["agency", "created_at", "id"], name="audit_agency_key"),
            models.Index(
                fields=["agency", "action", "created_at", "id"], name="audit_agency_action_key"
            ),
            models.Index(
                fields=["agency", "actor", "created_at", "id"], name="audit_agency_actor_key"
            ),
            models.Index(
                fields=["agency", "target_type", "target_id", "created_at", "id"],
                name="audit_agency_target_key",
            ),
            models.Index(fields=["agency", "ip", "created_at", "id"], name="audit_agency_ip_key"),
            # A support grant's actions (accounts.support: the grant's page).
            models.Index(
                fields=["agency", "acting_as_grant_id"],
                name="audit_agency_grant",
                condition=models.Q(acting_as_grant_id__isnull=False),
            ),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events are append-only.")
