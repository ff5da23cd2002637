"""The agency admin's page for the agency's own reply mailbox (IMAP): where replies by email
are read from when the agency's reply domain points at its own mail server."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from accounts import policy
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from mailin import access
from mailin.forms import MailboxForm
from mailin.services import mailbox as mailbox_services


def _page_url(request) -> str:
    return reverse("staff:mailbox_settings")


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@once_per_form(replay_to=_page_url)
def mailbox_settings(request):
    existing = access.mailbox_of(request.agency)
    if request.method != "POST":
        initial = (
            {
                "host": existing.host,
                "port": existing.port,
                "security": existing.security,
                "username": existing.username,
                "folder": existing.folder,
                "enabled": existing.enabled,
            }
            if existing is not None
            else None
        )
        form = MailboxForm(initial=initial, existing=existing)
        return _render(request, form, existing)
    form = MailboxForm(request.POST, existing=existing)
    if not form.is_valid():
        return _render(request, form, existing, status=400)
    try:
        mailbox_services.mailbox_save(
            agency=request.agency,
            actor=request.user,
            http_request=request,
            **form.cleaned_data,
        )
    except ValueError as error:
        form.add_error(None, str(error))
        return _render(request, form, existing, status=400)
    messages.success(
        request, gettext("The reply mailbox is saved. It is read within five minutes.")
    )
    return redirect(_page_url(request))


def _render(request, form, existing, status=200):
    return render(
        request, "mailin/mailbox.html", {"form": form, "mailbox": existing}, status=status
    )
