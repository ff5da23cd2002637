"""The operators' expunge requests, on the platform's own domain: the list with each request's
status and counts, recording a customer's request, one request's page (its progress: the page
reloads itself while the expunge runs, no JavaScript), the second operator's approval with the
slug typed again, a cancel before the run, and "run again" for a failed or stalled run."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from accounts.once import once_per_form
from accounts.support.views import operator_only
from ops.expunges import access, services
from ops.expunges.forms import ApproveForm, ExpungeRequestForm
from ops.models import ExpungeRequest

View = Callable[..., HttpResponse]
REFRESH_SECONDS = 5


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
        raise Http404  # the platform's page, never on an agency's host


def _detail(request_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("ops:expunge", kwargs={"request_id": request_id}))


@require_safe
@_operators
def expunge_list(request: HttpRequest) -> HttpResponse:
    _platform_only(request)
    requests = access.expunge_requests(request.user)
    return render(request, "ops/expunges.html", {"expunge_requests": requests})


@require_http_methods(["GET", "HEAD", "POST"])
@_operators
@once_per_form
def expunge_new(request: HttpRequest) -> HttpResponse:
    _platform_only(request)
    form = ExpungeRequestForm(
        request.POST or None, agencies=access.agencies_to_choose(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.expunge_request_create(
                operator=_operator(request),
                agency_id=form.cleaned_data["agency"],
                customer_contact=form.cleaned_data["customer_contact"],
                reference=form.cleaned_data["reference"],
                note=form.cleaned_data["note"],
                http_request=request,
            )
        except services.ExpungeRequestError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request, gettext("Recorded. Another operator must now approve the expunge.")
            )
            return _detail(created.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "ops/expunge_new.html", {"form": form}, status=status)


def _page(
    request: HttpRequest, found: ExpungeRequest, form: ApproveForm | None, status: int = 200
) -> HttpResponse:
    operator = _operator(request)
    working = found.status in (ExpungeRequest.Status.APPROVED, ExpungeRequest.Status.RUNNING)
    context = {
        "expunge": found,
        "form": form or ApproveForm(),
        "can_approve": found.status == ExpungeRequest.Status.REQUESTED
        and found.requested_by_id != operator.pk,
        "own_request": found.requested_by_id == operator.pk,
        "can_cancel": found.status
        in (ExpungeRequest.Status.REQUESTED, ExpungeRequest.Status.APPROVED),
        "can_run_again": services.can_run_again(found),
        "working": working,
        "refresh_seconds": REFRESH_SECONDS,
        "rows": sorted(found.rows.items()),
    }
    return render(request, "ops/expunge.html", context, status=status)


@require_safe
@_operators
def expunge_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    _platform_only(request)
    return _page(request, access.get_expunge_request(request.user, request_id), None)


@require_POST
@_operators
@once_per_form
def expunge_approve(request: HttpRequest, request_id: int) -> HttpResponse:
    _platform_only(request)
    found = access.get_expunge_request(request.user, request_id)
    form = ApproveForm(request.POST)
    if form.is_valid():
        try:
            services.expunge_request_approve(
                operator=_operator(request),
                request_id=found.pk,
                confirm_slug=form.cleaned_data["confirm"],
                http_request=request,
            )
        except services.ExpungeRequestError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, gettext("Approved: the expunge was sent to the worker."))
            return _detail(found.pk)
    found.refresh_from_db()
    return _page(request, found, form, status=400)


def _action(
    request: HttpRequest, request_id: int, change: Callable[..., object], done: str
) -> HttpResponse:
    _platform_only(request)
    found = access.get_expunge_request(request.user, request_id)
    try:
        change(operator=_operator(request), request_id=found.pk, http_request=request)
    except services.ExpungeRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return _detail(found.pk)


@require_POST
@_operators
@once_per_form
def expunge_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    return _action(
        request, request_id, services.expunge_request_cancel, gettext("The request was cancelled.")
    )


@require_POST
@_operators
@once_per_form
def expunge_rerun(request: HttpRequest, request_id: int) -> HttpResponse:
    return _action(
        request,
        request_id,
        services.expunge_request_rerun,
        gettext("Sent to the worker again: it resumes where the last run stopped."),
    )
