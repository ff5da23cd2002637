"""The operators' self-scan pages, on the platform's own domain: the runs with their history,
one run's checks and findings, and "run now" (sent to the worker)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from accounts.once import once_per_form
from accounts.support.views import operator_only
from ops.selfscan import STATUS_LABELS, access, services


def _platform_only(request: HttpRequest) -> None:
    if getattr(request, "agency", None) is not None:
        raise Http404  # the platform's page, never on an agency's host


@require_safe
@operator_only  # type: ignore[untyped-decorator]
def scan_runs(request: HttpRequest) -> HttpResponse:
    _platform_only(request)
    runs = access.scan_runs(request.user)
    return render(request, "ops/scan_runs.html", {"runs": runs, "labels": STATUS_LABELS})


@require_safe
@operator_only  # type: ignore[untyped-decorator]
def scan_run(request: HttpRequest, run_id: int) -> HttpResponse:
    _platform_only(request)
    run = access.get_scan_run(request.user, run_id)
    checks = [dict(c, status_label=STATUS_LABELS.get(c.get("status"), "")) for c in run.checks]
    return render(request, "ops/scan_run.html", {"run": run, "checks": checks})


@require_POST
@operator_only  # type: ignore[untyped-decorator]
@once_per_form
def scan_run_now(request: HttpRequest) -> HttpResponse:
    _platform_only(request)
    operator = cast(User, request.user)  # operator_only: a signed-in operator
    services.self_scan_request(operator=operator, http_request=request)
    messages.success(request, gettext("The self-scan was sent to the worker; reload in a minute."))
    return HttpResponseRedirect(reverse("ops:scan_runs"))
