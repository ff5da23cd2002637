"""The operators' agency pages, on the platform's own domain (404 on an agency's host,
before anything else: an agency's site never shows the platform's list of agencies)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import User
from accounts.once import once_per_form
from accounts.services.agencies import agency_create
from accounts.services.errors import ServiceError, ServiceFieldError
from accounts.support.views import operator_only
from ops.agencies import access
from ops.agencies.forms import AgencyCreateForm
from vault.locations import UnknownLocation, location


def platform_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "agency", None) is not None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _label(name: str) -> str:
    try:
        return location(name).label
    except UnknownLocation:  # configuration lost a location that still holds agencies
        return gettext("%(name)s (no longer configured)") % {"name": name}


@require_safe
@platform_only
@operator_only  # type: ignore[untyped-decorator]
def agency_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (agency, _label(agency.storage_location)) for agency in access.agencies_for(request.user)
    ]
    return render(request, "ops/agencies/list.html", {"rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
@platform_only
@operator_only  # type: ignore[untyped-decorator]
@once_per_form
def agency_new(request: HttpRequest) -> HttpResponse:
    form = AgencyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        operator = cast(User, request.user)  # operator_only: a signed-in operator
        try:
            agency = agency_create(operator=operator, http_request=request, **form.cleaned_data)
        except ServiceFieldError as error:
            form.add_error(error.field, str(error))
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                gettext("The agency %(name)s was created.") % {"name": agency.name},
            )
            return HttpResponseRedirect(
                reverse("ops_agencies:detail", kwargs={"agency_id": agency.pk})
            )
    return render(request, "ops/agencies/new.html", {"form": form})


@require_safe
@platform_only
@operator_only  # type: ignore[untyped-decorator]
def agency_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = access.agency_for(request.user, agency_id)
    return render(
        request,
        "ops/agencies/detail.html",
        {"agency": agency, "location_label": _label(agency.storage_location)},
    )
