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
    # Unique with created_at: the table is partitioned by month of created_at (migration
    # 0005), and PostgreSQL's unique keys on it must hold the partition key. The primary key
    # in the database is (id, created_at) for the same reason; ids stay unique (one identity).
    hash = models.CharField(max_length=64)

    class Meta:
        db_table_comment = "append-only: UPDATE, DELETE and TRUNCATE are refused"
        constraints = [
            models.UniqueConstraint(fields=["hash", "created_at"], name="audit_hash_unique"),
        ]
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


class AuditArchive(models.Model):
    """One chain's events of one month (UTC), exported from the database to storage as an
    encrypted archive before the month's partition is dropped (audit/retention.py).

    The manifest (``manifest`` here, and beside the archive in storage) records what the
    archive holds: counts, the first and last chain positions and hashes, and the SHA-256 of
    the ciphertext; ``manifest_sha256`` is the hash of its canonical JSON. Verification of
    the chain still online starts from the newest archive's ``last_hash``."""

    agency = models.ForeignKey(
        settings.PORTAL_TENANT_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    month = models.DateField(help_text="First day of the month (UTC) the archive holds")
    events = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    first_prev_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64)
    blob_name = models.CharField(max_length=200)
    manifest = models.JSONField()
    manifest_sha256 = models.CharField(max_length=64)
    # The platform chain's data key, sealed again with the current master key after a
    # master-key rotation (audit/archive_keys.py reseal_platform_key). The manifest keeps its
    # first wrapping: it is signed and its hash recorded, so it is never rewritten. Only the
    # master keyring opens this, and a wrong key still fails on the ciphertext's AEAD.
    resealed_key = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "month"], name="audit_archive_month", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["agency", "-month"], name="audit_archive_newest")]

    def __str__(self) -> str:
        return f"audit archive {self.agency_id or 'platform'} {self.month:%Y-%m}"
