"""Error pages and the health check. Error pages never show internals, only the request id
that support can look up in the logs."""

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from config.middleware import current_request_id


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No template context processors here: they may be what failed.
    from django.template import loader

    request_id = getattr(request, "request_id", None) or current_request_id()
    body = loader.get_template("500.html").render({"request_id": request_id})
    return HttpResponse(body, status=500)


@require_safe
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
