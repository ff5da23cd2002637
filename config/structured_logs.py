"""Structured logs: one JSON object per line on stdout, for Heroku's log drains.

Every web request and every Celery task ends with one line (logger ``portal.requests`` or
``portal.tasks``) naming the request id, the agency, the user id, the route *name* (never the
path: download links, password-reset and invitation links carry their token in the path),
the status or state and the duration. What is never logged, and why, is in
docs/operations.md ("Logs").

The formatter is the standard library's ``json`` over a fixed set of keys: JSON encoding
escapes newlines and control characters (ANSI escapes included), so a user agent or a name
cannot forge a second line or colour a terminal. ``ensure_ascii`` also escapes the Unicode
line separators that some log viewers split on.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

request_logger = logging.getLogger("portal.requests")
task_logger = logging.getLogger("portal.tasks")

# Free text a client controls, shortened: a log line stays one readable line.
_USER_AGENT_LIMIT = 256
_METHOD_LIMIT = 16
# The header that carries the id of the web request that sent a task to the worker.
REQUEST_ID_HEADER = "portal_request_id"


_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the web request (or of the request that sent the running task), or "-"."""
    return _request_id.get()


def bind_request_id(request_id: str) -> contextvars.Token[str]:
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request id, and the
    ``fields`` mapping a record carries (``logger.info(..., extra={"fields": {...}})``).
    Other ``extra`` attributes are ignored on purpose: libraries attach whole requests,
    task arguments and return values there."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update((key, value) for key, value in fields.items() if key not in entry)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True, default=str, separators=(",", ":"))


def route_of(request: Any) -> str | None:
    """The URL pattern's name (``staff:request_detail``), or its route text when it has no
    name; None when no pattern matched. Never the path itself."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    return match.view_name or match.route or None


class HidePathsFilter(logging.Filter):
    """Django's own loggers put the request's path in their messages ("Not Found: /...",
    "Forbidden (CSRF token missing.): /..."): the path is replaced by the route's name,
    because a path can carry a download, reset or invitation token."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if not isinstance(path, str) or path in ("", "/"):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed call ("%s" without its argument): keep the words, drop the values.
            message = str(record.msg)
        route = route_of(request) or "-"
        full_path = getattr(request, "get_full_path", lambda: path)()
        for text in (full_path, path, getattr(request, "path_info", "")):
            if isinstance(text, str) and text not in ("", "/"):
                message = message.replace(text, route)
        record.msg, record.args = message, ()
        return True


def log_request(request: Any, status: int, started: float) -> None:
    """The request's line, written when its response is ready (a streamed download's line
    comes when the stream starts, not when it ends)."""
    agency = getattr(request, "agency", None)
    user = getattr(request, "user", None)
    route = route_of(request)
    method = str(getattr(request, "method", "") or "")[:_METHOD_LIMIT]
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    fields = {
        "event": "request",
        "agency": getattr(agency, "slug", None),
        "agency_id": getattr(agency, "pk", None),
        "user_id": user.pk if user is not None and user.is_authenticated else None,
        "route": route,
        "method": method,
        "status": status,
        "duration_ms": duration_ms,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:_USER_AGENT_LIMIT],
    }
    request_logger.log(
        logging.ERROR if status >= 500 else logging.INFO,
        "%s %s %s %.1fms",
        method,
        route or "-",
        status,
        duration_ms,
        extra={"fields": fields},
    )


def logging_settings(log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: the console (stdout) in ``log_format`` ("json" or "plain")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "config.structured_logs.RequestIdLogFilter"},
            # Django's messages name the request's path, which can carry a token.
            "hide_paths": {"()": "config.structured_logs.HidePathsFilter"},
        },
        "formatters": {
            "json": {"()": "config.structured_logs.JsonFormatter"},
            "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["request_id", "hide_paths"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "pgserver": {"level": "WARNING"},
            # django-axes logs each failed sign-in with the typed email at WARNING: personal
            # data stays in the audit log (access-controlled), not in application logs.
            "axes": {"level": "ERROR"},
            # The request's own line (portal.requests) has its status: Django's "Not Found"
            # and "Forbidden" warnings would only repeat it. Errors (5xx) still come.
            "django.request": {"level": "ERROR"},
            # runserver's access line is the raw request line, query string included.
            "django.server": {"level": "CRITICAL"},
            # Celery's "succeeded in 0.1s: <return value>": the task's own line has the
            # state and duration, and a return value is nobody's business in a log.
            "celery.app.trace": {"level": "WARNING"},
        },
    }


# --- Celery --------------------------------------------------------------------------------

_running: dict[str, tuple[float, contextvars.Token[str] | None]] = {}


def _task_started(task_id: str | None = None, task: Any = None, **_: object) -> None:
    parent = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    token = bind_request_id(parent) if isinstance(parent, str) else None
    if task_id:
        _running[task_id] = (time.perf_counter(), token)


def _task_finished(
    task_id: str | None = None,
    task: Any = None,
    kwargs: dict[str, Any] | None = None,
    state: str | None = None,
    **_: object,
) -> None:
    started, token = _running.pop(task_id or "", (None, None))
    kwargs = kwargs or {}
    # Celery sends no state when the exception propagates to the caller (an eager task:
    # the development default and the tests).
    state = state or "FAILURE"
    retries = getattr(getattr(task, "request", None), "retries", 0)
    fields = {
        "event": "task",
        "task": getattr(task, "name", None),
        "task_id": task_id,
        "agency_id": kwargs.get("agency_id"),
        "state": state,
        "retries": retries if isinstance(retries, int) else 0,
        "duration_ms": None
        if started is None
        else round((time.perf_counter() - started) * 1000, 1),
    }
    try:
        task_logger.log(
            logging.ERROR if state == "FAILURE" else logging.INFO,
            "task %s %s",
            fields["task"],
            state,
            extra={"fields": fields},
        )
    finally:
        if token is not None:
            unbind_request_id(token)


def _pass_request_id(headers: dict[str, Any] | None = None, **_: object) -> None:
    """A task sent during a web request carries that request's id to the worker."""
    request_id = current_request_id()
    if headers is not None and request_id != "-":
        headers[REQUEST_ID_HEADER] = request_id


def _use_django_logging(**_: object) -> None:
    """Celery keeps its hands off logging: the worker writes the same JSON lines as the web
    process (settings.LOGGING), instead of Celery's own format on a hijacked root logger."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def connect_task_logging() -> None:
    from celery import signals

    signals.setup_logging.connect(_use_django_logging, weak=False)
    signals.before_task_publish.connect(_pass_request_id, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)
