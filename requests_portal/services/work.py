"""Staff work on a request: tasks, tags, time entries, and filling templates. Each write is
one transaction with its timeline entry (staff-only) and audit event."""

from __future__ import annotations

import datetime
import re

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import User
from requests_portal import audit_events
from requests_portal.models import RecordsRequest, RequestTag, Tag, Task, TimeEntry
from requests_portal.services.changes import add_timeline_event, human_date

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, records_request: RecordsRequest, *, public: bool = False) -> str:
    """Replace the known {placeholders}; leave anything else exactly as written. Plain
    substitution, never a template engine: template text is written by agency staff.
    ``public`` text (it lands on the public timeline) never names the requester."""
    values = {
        "number": records_request.number,
        "title": records_request.title,
        "requester_name": "requester"
        if public or not records_request.requester_name
        else records_request.requester_name,
        "due_date": human_date(records_request.due_date),
        "agency": records_request.agency.name,
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _audit(
    code: str,
    records_request: RecordsRequest,
    actor: User,
    *,
    http_request: HttpRequest | None,
    **details: object,
) -> None:
    audit.record(
        code,
        http_request=http_request,
        agency=records_request.agency,
        actor=actor,
        target=records_request,
        details=details,
    )


def task_add(
    *,
    records_request: RecordsRequest,
    actor: User,
    title: str,
    assignee: User | None = None,
    due_date: datetime.date | None = None,
    http_request: HttpRequest | None = None,
) -> Task:
    with transaction.atomic():
        task = Task.objects.create(
            agency=records_request.agency,
            request=records_request,
            title=title,
            assignee=assignee,
            due_date=due_date,
            created_by=actor,
        )
        who = f" for {assignee.email}" if assignee else ""
        add_timeline_event(
            records_request, "task_added", actor, f"Task added{who}: {title}", public=False
        )
        _audit(
            audit_events.TASK_ADDED.code,
            records_request,
            actor,
            http_request=http_request,
            title=title,
        )
    return task


def task_set_done(
    *, task: Task, actor: User, done: bool, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        task.done_at = timezone.now() if done else None
        task.save(update_fields=["done_at"])
        label = "done" if done else "not done"
        add_timeline_event(
            task.request, "task_done", actor, f"Task {label}: {task.title}", public=False
        )
        _audit(
            audit_events.TASK_DONE.code,
            task.request,
            actor,
            http_request=http_request,
            title=task.title,
            done=done,
        )


def tags_set(
    *,
    records_request: RecordsRequest,
    actor: User,
    names: list[str],
    http_request: HttpRequest | None = None,
) -> None:
    agency = records_request.agency
    wanted = sorted({name.strip()[:60] for name in names if name.strip()}, key=str.lower)
    with transaction.atomic():
        tags = [Tag.objects.get_or_create(agency=agency, name=name)[0] for name in wanted]
        RequestTag.objects.filter(agency=agency, request=records_request).exclude(
            tag__in=tags
        ).delete()
        for tag in tags:
            RequestTag.objects.get_or_create(agency=agency, request=records_request, tag=tag)
        add_timeline_event(
            records_request,
            "tags_changed",
            actor,
            "Tags: " + (", ".join(wanted) or "none"),
            public=False,
        )
        _audit(
            audit_events.TAGS_CHANGED.code,
            records_request,
            actor,
            http_request=http_request,
            tags=wanted,
        )


def time_log(
    *,
    records_request: RecordsRequest,
    actor: User,
    day: datetime.date,
    minutes: int,
    note: str = "",
    http_request: HttpRequest | None = None,
) -> TimeEntry:
    with transaction.atomic():
        entry = TimeEntry.objects.create(
            agency=records_request.agency,
            request=records_request,
            user=actor,
            day=day,
            minutes=minutes,
            note=note,
        )
        _audit(
            audit_events.TIME_LOGGED.code,
            records_request,
            actor,
            http_request=http_request,
            minutes=minutes,
            day=day.isoformat(),
        )
    return entry


def time_update(
    *,
    entry: TimeEntry,
    actor: User,
    minutes: int,
    note: str,
    http_request: HttpRequest | None = None,
) -> None:
    with transaction.atomic():
        before = entry.minutes
        entry.minutes = minutes
        entry.note = note
        entry.save(update_fields=["minutes", "note"])
        _audit(
            audit_events.TIME_CHANGED.code,
            entry.request,
            actor,
            http_request=http_request,
            entry=entry.pk,
            owner=entry.user_id,
            minutes_before=before,
            minutes=minutes,
        )
