"""Sending the outbox's rows to the broker: once right after the transaction that wrote them
commits (accounts.jobs.Job), and again by the relay for any row still there a little later
(beat every minute, ``manage.py relay_outbox``).

A row is sent under its own row lock taken with ``FOR UPDATE SKIP LOCKED`` and deleted in the
same transaction, so two senders (the web process and a relay, or two relays) never send one
row twice: the second skips the locked row, and once the first commits the row is gone. A
broker error leaves the row (a warning is logged) for the next relay. A process that dies
between the broker's acknowledgement and its commit sends that row again later: delivery is
at least once, like Celery's own late acknowledgement.

In eager mode (no broker: the embedded default and the tests) the task runs in-process as
before; its row is deleted first, so a task that raises is not run again by a relay.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis.exceptions
from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.outbox.models import OutboxMessage

logger = logging.getLogger("portal.jobs")

# What a broker that cannot be reached raises while publishing (kombu wraps most of them in
# OperationalError; a socket timeout can come through as itself).
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)
# Rows younger than this are left to the process that wrote them (it sends right after its
# commit); the relay takes the rest.
GRACE = timedelta(seconds=30)
BATCH = 100


def eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def publish(
    task_name: str,
    kwargs: dict[str, Any],
    *,
    countdown: float | None = None,
    headers: dict[str, Any] | None = None,
) -> None:
    options: dict[str, Any] = {"countdown": countdown}
    if headers:
        options["headers"] = dict(headers)
    current_app.tasks[task_name].apply_async(kwargs=kwargs, **options)


def write(
    task_name: str,
    kwargs: dict[str, Any],
    *,
    countdown: float | None,
    headers: dict[str, Any],
) -> int:
    """Write the row in the caller's transaction; its id."""
    return OutboxMessage.objects.create(
        task_name=task_name, kwargs=kwargs, countdown=countdown, headers=headers
    ).pk


def send_after_commit(
    outbox_id: int,
    task_name: str,
    kwargs: dict[str, Any],
    *,
    countdown: float | None,
    headers: dict[str, Any],
) -> bool:
    """Send one row just committed and delete it; False when it stays for the relay (the
    broker is unreachable, or a relay holds the row)."""
    if eager():
        OutboxMessage.objects.filter(pk=outbox_id).delete()
        publish(task_name, kwargs, countdown=countdown, headers=headers)
        return True
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=outbox_id)
        if not list(row.values_list("pk", flat=True)):
            return False  # a relay is sending it (or has sent it) already
        try:
            publish(task_name, kwargs, countdown=countdown, headers=headers)
        except BROKER_ERRORS as error:
            _broker_unreachable(error, task_name=task_name, outbox_ids=[outbox_id])
            return False
        row.delete()
    return True


def relay(*, grace: timedelta = GRACE, batch: int = BATCH) -> int:
    """Send every row older than ``grace``, ``batch`` rows per transaction, oldest first;
    how many were sent. Stops at the first broker error (the rest wait for the next run)."""
    sent = 0
    after = 0  # rows are taken in id order; one naming no task is passed over, not retried
    while True:
        broker_down = False
        with transaction.atomic():
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk__gt=after, created_at__lte=timezone.now() - grace)
                .order_by("pk")[:batch]
            )
            done: list[int] = []
            for row in rows:
                after = row.pk
                try:
                    publish(
                        row.task_name,
                        row.kwargs,
                        countdown=_remaining(row),
                        headers=row.headers,
                    )
                except BROKER_ERRORS as error:
                    _broker_unreachable(
                        error, task_name=row.task_name, outbox_ids=[r.pk for r in rows]
                    )
                    broker_down = True
                    break
                except KeyError:
                    # A task renamed or removed since the row was written: nothing can run
                    # it. Kept (and logged) for an operator rather than silently dropped.
                    logger.error(
                        "Outbox row names no registered task",
                        extra={"fields": {"task": row.task_name, "outbox_id": row.pk}},
                    )
                    continue
                done.append(row.pk)
            OutboxMessage.objects.filter(pk__in=done).delete()
        sent += len(done)
        if broker_down or len(rows) < batch:
            return sent


def pending() -> int:
    return OutboxMessage.objects.count()


def _remaining(row: OutboxMessage) -> float | None:
    """A delayed task keeps its original time: the countdown left since the row was written."""
    if not row.countdown:
        return None
    left = row.countdown - (timezone.now() - row.created_at).total_seconds()
    return left if left > 0 else None


def _broker_unreachable(error: BaseException, *, task_name: str, outbox_ids: list[int]) -> None:
    # Never the task's arguments: an e-mail's body carries links with tokens.
    logger.warning(
        "Broker unreachable: task kept in the outbox for the relay",
        extra={
            "fields": {
                "event": "outbox_kept",
                "task": task_name,
                "outbox_ids": outbox_ids,
                "error": type(error).__name__,
            }
        },
    )
