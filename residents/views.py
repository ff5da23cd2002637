"""A resident's own data: the page to ask for a download of it, the download's progress and
the download itself, and deleting the account. Only the person themselves: someone else's
export is a 404."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import require_recent_auth
from accounts.once import once_per_form
from residents import access
from residents.forms import AccountDeleteForm
from residents.models import ExportStatus
from residents.services import deletion, exports


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@once_per_form
def data(request):
    if request.method == "POST":
        export = exports.export_request(user=request.user, http_request=request)
        return HttpResponseRedirect(reverse("residents:export_status", args=[export.public_id]))
    return render(
        request,
        "residents/data.html",
        {"exports": access.exports_of(request.user), "days": exports.EXPORT_DAYS},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def export_status(request, export_id: uuid.UUID):
    export = access.export_for(request.user, export_id)
    working = export.status in (ExportStatus.ASKED, ExportStatus.BUILDING)
    return render(
        request,
        "residents/export_status.html",
        {"export": export, "working": working, "ready": export.status == ExportStatus.READY},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def export_download(request, export_id: uuid.UUID):
    export = access.export_for(request.user, export_id)
    try:
        body = exports.export_open(export=export, http_request=request)
    except ValueError:
        raise Http404 from None
    response = StreamingHttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_recent_auth
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request):
    staff = deletion.is_staff_account(request.user)
    form = AccountDeleteForm(
        request.POST if request.method == "POST" and not staff else None, user=request.user
    )
    if form.is_bound and form.is_valid():
        try:
            kept = deletion.account_delete(user=request.user, http_request=request)
        except deletion.StaffAccount:
            staff = True
        else:
            logout(request)
            messages.success(
                request,
                _("Your account is deleted. %(kept)s request(s) stay on file without your details.")
                % {"kept": kept},
            )
            return HttpResponseRedirect(reverse("home"))
    return render(request, "residents/account_delete.html", {"form": form, "staff": staff})
