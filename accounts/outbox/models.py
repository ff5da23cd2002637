"""One row per task asked for and not yet handed to the broker (see accounts/outbox/relay.py).

A platform table, deliberately without an ``agency_id`` column: the agency travels inside
``kwargs`` as every task's argument, no tenant page ever reads these rows, and the relay
(beat, outside any agency) must see all of them. The app role may INSERT, SELECT and DELETE
(the grants every table gets); rows never change once written.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField()
    countdown = models.FloatField(null=True, blank=True)
    # Celery message headers to send with the task (the support grant: "acting_as_grant").
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "accounts_outbox_message"

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"
