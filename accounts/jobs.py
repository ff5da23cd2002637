"""How a service asks for background work: by the task's registered name, sent once the
caller's transaction commits.

Services never import a ``tasks`` module: tasks are thin wrappers that import services, so the
other direction would be an import cycle (hidden or not). Each app's ``AppConfig.ready()``
imports its tasks once at start-up, which registers them with Celery under
``<app>.tasks.<function>``; a misspelt name raises ``KeyError`` at once, inside the caller's
transaction, so nothing half-done commits.

The task is written down first, in the caller's transaction, as a row of the outbox
(accounts/outbox/): committed work never loses its task, even when the broker is unreachable
at commit time. Right after the commit the row is sent and deleted; a broker error only logs a
warning and leaves the row for the relay (beat, every minute), so the page that did the work
still answers normally.

Apps keep their own small ``jobs`` module of named functions
(``documents.jobs.scan_document(...)``) built on :func:`enqueue`; this one holds the email
every app sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

from celery import current_app
from django.db import transaction

import audit
from accounts.outbox import relay
from accounts.tenancy import GRANT_HEADER


@dataclass(frozen=True)
class Job:
    """One task to send: the on-commit callback :func:`enqueue` registers (readable by tests
    that capture on-commit callbacks: which task, with what). ``outbox_id`` is its row in
    the outbox, deleted once the broker has the task."""

    task_name: str
    kwargs: dict[str, Any]
    countdown: float | None = None
    # The support grant the caller acted under (read at enqueue time; the task records its
    # events under it too).
    grant_id: int | None = None
    outbox_id: int | None = None

    @property
    def headers(self) -> dict[str, Any]:
        return {} if self.grant_id is None else {GRANT_HEADER: self.grant_id}

    def __call__(self) -> None:
        if self.outbox_id is None:
            relay.publish(
                self.task_name, self.kwargs, countdown=self.countdown, headers=self.headers
            )
            return
        relay.send_after_commit(
            self.outbox_id,
            self.task_name,
            self.kwargs,
            countdown=self.countdown,
            headers=self.headers,
        )


def enqueue(task_name: str, *, countdown: float | None = None, **kwargs: Any) -> None:
    """Send the task ``task_name`` with keyword arguments ``kwargs`` (JSON values only) when
    the current transaction commits; with ``countdown``, that many seconds later."""
    if task_name not in current_app.tasks:
        raise KeyError(f"no task registered as {task_name!r}")
    grant_id = audit.current_grant(kwargs.get("agency_id"))
    job = Job(task_name, kwargs, countdown, grant_id)
    outbox_id = relay.write(task_name, kwargs, countdown=countdown, headers=job.headers)
    transaction.on_commit(Job(task_name, kwargs, countdown, grant_id, outbox_id))


class Email(TypedDict):
    """One rendered email, as the task ``accounts.tasks.send_email`` takes it (plain JSON
    values, never model instances)."""

    agency_id: int | None
    subject: str
    body: str
    to: list[str]
    from_email: NotRequired[str | None]
    html_body: NotRequired[str | None]
    # Where a reply goes (a request's signed reply address: requests_portal/reply_address.py).
    reply_to: NotRequired[list[str] | None]


def send_email(**email: Unpack[Email]) -> None:
    """Send one rendered email from the worker once the transaction commits."""
    enqueue("accounts.tasks.send_email", **email)
