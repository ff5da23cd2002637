"""How the public reaches the agency: the admin's "Contact and notices" page, and the public
privacy and accessibility pages (the agency's own text, or an honest default saying it has
not published one and how to contact it)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.forms import AgencyContactForm
from accounts.models import CONTACT_FIELDS
from accounts.services import agency_contact


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
def contact_settings(request):
    agency = request.agency
    form = AgencyContactForm.for_agency(agency, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        agency_contact.agency_contact_update(
            agency=agency,
            actor=request.user,
            values={f: form.cleaned_data[f] for f in CONTACT_FIELDS},
            http_request=request,
        )
        messages.success(
            request, gettext("Contact details and notices saved. Every page shows them now.")
        )
        return HttpResponseRedirect(reverse("staff:contact_settings"))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/admin/contact_settings.html", {"form": form}, status=status)


def _notice_page(request, *, field: str, title, kind: str):
    """The agency's notice (``field`` of the agency), escaped, its paragraphs kept; on the
    platform's own domain there is no agency to speak for: 404."""
    if request.agency is None:
        raise Http404
    return render(
        request,
        "accounts/notice.html",
        {"notice_text": getattr(request.agency, field), "notice_title": title, "kind": kind},
    )


@require_safe
def privacy(request):
    return _notice_page(request, field="privacy_notice", title=_("Privacy notice"), kind="privacy")


@require_safe
def accessibility(request):
    return _notice_page(
        request,
        field="accessibility_statement",
        title=_("Accessibility statement"),
        kind="accessibility",
    )
