"""Operators' deep health check (``/healthz/deep``) and the public status page (issue 13).

``/healthz/deep`` answers on the platform's own domain only, to a platform operator signed in
with a second factor, or to a caller holding the bearer token ``HEALTHZ_DEEP_TOKEN`` (an
uptime monitor). Anyone else gets 404: the page's existence and its details are for operators.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from accounts.once import once_per_form
from accounts.signin import mfa
from accounts.support import access as support_access
from accounts.support.views import operator_only
from ops import monitoring, status_services
from ops.models import Incident
from ops.status_forms import IncidentForm


def _bearer_ok(request: HttpRequest) -> bool:
    token = settings.MONITORING.deep_token
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


def _operator_ok(request: HttpRequest) -> bool:
    return support_access.is_operator(request.user) and mfa.session_satisfies(request)


@require_safe
@never_cache
def healthz_deep(request: HttpRequest) -> JsonResponse:
    """Each component's status and detail; 200 when none failed, else 503."""
    if not getattr(request, "is_platform", False):
        raise Http404
    if not (_bearer_ok(request) or _operator_ok(request)):
        raise Http404
    results = monitoring.run_checks()
    healthy = monitoring.healthy(results)
    return JsonResponse(
        {
            "status": "ok" if healthy else "fail",
            "checks": {result.name: result.as_json() for result in results},
        },
        status=200 if healthy else 503,
    )


# --- The public status page and the operators' incidents --------------------------------------

PUBLIC_NAMES = {
    "database": _("Database"),
    "cache": _("Cache"),
    "storage": _("Document storage"),
    "migrations": _("Software version"),
    "backup": _("Backups"),
    "seal": _("Audit log seals"),
}


def utc_time(moment: datetime | None) -> dict[str, str] | None:
    """A time for the platform's pages, which belong to no agency: in UTC, and named so."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return {"iso": moment.isoformat(timespec="seconds"), "text": f"{moment:%Y-%m-%d %H:%M} UTC"}


def _incidents(incidents: list[Incident]) -> list[dict[str, object]]:
    return [
        {
            "incident": incident,
            "created": utc_time(incident.created_at),
            "resolved": utc_time(incident.resolved_at),
        }
        for incident in incidents
    ]


View = Callable[..., HttpResponse]


def _operators(view: View) -> View:
    """accounts.support.views.operator_only, typed: platform operators with a second factor."""
    return cast(View, operator_only(view))  # type: ignore[no-untyped-call]  # shared, untyped


def _operator(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # operator_only let only signed-in operators through
        raise Http404
    return user


def _platform_only(request: HttpRequest) -> None:
    if not getattr(request, "is_platform", False):
        raise Http404


@require_safe
@never_cache
def status_page(request: HttpRequest) -> HttpResponse:
    """Every component's status (no details: they can name hosts), the newest backup's and
    seal's times in UTC, and the operators' incident notes. Public, on the platform's domain."""
    _platform_only(request)
    results = monitoring.public_checks()
    components = [
        {"label": PUBLIC_NAMES[result.name], "status": result.status} for result in results
    ]
    times = {result.name: result.at for result in results}
    context = {
        "healthy": monitoring.healthy(results),
        "components": components,
        "last_backup": utc_time(times.get("backup")),
        "last_seal": utc_time(times.get("seal")),
        "open_incidents": _incidents(monitoring.open_incidents()),
        "resolved_incidents": _incidents(monitoring.recent_resolved_incidents()),
    }
    return render(request, "ops/status.html", context, status=200)


@require_http_methods(["GET", "HEAD", "POST"])
@_operators
@once_per_form
def incident_list(request: HttpRequest) -> HttpResponse:
    """Operators post an incident note and see every open one (the platform's domain)."""
    _platform_only(request)
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            status_services.post_incident(
                operator=_operator(request),
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                status=form.cleaned_data["status"],
                http_request=request,
            )
        except status_services.IncidentError as error:
            form.add_error(None, str(error))
        else:
            return HttpResponseRedirect(reverse("status_incidents"))
    context = {
        "form": form,
        "open_incidents": _incidents(monitoring.open_incidents()),
        "resolved_incidents": _incidents(monitoring.recent_resolved_incidents()),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "ops/status_incidents.html", context, status=status)


@require_POST
@_operators
@once_per_form
def incident_resolve(request: HttpRequest, incident_id: int) -> HttpResponse:
    _platform_only(request)
    try:
        status_services.resolve_incident(
            operator=_operator(request), incident_id=incident_id, http_request=request
        )
    except status_services.IncidentError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("status_incidents"))
