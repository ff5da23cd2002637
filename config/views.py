"""Error pages and the health check. Error pages never show internals, only the request id
that support can look up in the logs."""

import logging
import sys
import time

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import retention
from config.middleware import current_request_id

logger = logging.getLogger(__name__)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


# The database is away (a restart, a failover, a connection cut) or a statement outlived the
# web process's statement timeout (config/db_settings.py): "try again", not a crash.
_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def server_error(request):
    # No template context processors here: they may be what failed.
    from django.template import loader

    request_id = getattr(request, "request_id", None) or current_request_id()
    body = loader.get_template("500.html").render({"request_id": request_id})
    # Django calls this handler while it handles the exception, so it is still current.
    if isinstance(sys.exc_info()[1], _UNAVAILABLE):
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(body, status=500)


# Next month's audit partition, once found, is remembered this long by each process: the
# answer changes weeks ahead (retention keeps three months ready), and asking costs two
# queries on every health check. A missing partition is asked again each time.
PARTITION_CHECK_SECONDS = 60
_partition_ready_until = 0.0


def _next_month_ready() -> bool:
    global _partition_ready_until
    now = time.monotonic()
    if now < _partition_ready_until:
        return True
    ready = retention.next_month_ready()
    _partition_ready_until = now + PARTITION_CHECK_SECONDS if ready else 0.0
    return ready


def forget_partition_check() -> None:
    """Ask the database again at the next health check (tests)."""
    global _partition_ready_until
    _partition_ready_until = 0.0


@require_safe
def healthz(request):
    """200 "ok" when the database answers and the audit log can take next month's events.
    503 when retention's daily task has not made next month's partition (it keeps three
    months ahead, so this shows weeks before events, and with them every request, would
    start failing); the details go to the error log (and Sentry), not to the caller."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- the cheapest query that proves the database answers
        cursor.execute("SELECT 1")
    if not _next_month_ready():
        logger.error(
            "healthz: the audit log has no partition for next month; run "
            "`manage.py audit_retention` and check that Celery beat runs"
        )
        return HttpResponse("degraded", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")
