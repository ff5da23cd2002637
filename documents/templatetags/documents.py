"""Document panels shown on the request pages of requests_portal (which knows nothing of
documents: the templates load these tags)."""

from django import template
from django.utils.translation import gettext as _

from accounts import policy
from documents import access
from requests_portal.access import PublicView

register = template.Library()


@register.inclusion_tag("documents/_staff_panel.html", takes_context=True)
def staff_documents_panel(context, records_request):
    request = context["request"]
    documents = access.staff_documents(request.user, request.agency, records_request)
    return {
        "r": records_request,
        "documents": documents,
        "can_upload": policy.can(request.user, request.agency, policy.DOCUMENT_UPLOAD),
    }


def _read(records_request, viewer, tracking) -> tuple[list, bool]:
    """The documents this reader sees, and whether any is released beyond staff: read once
    per page in one query, as the note and the panel both ask (kept on the request object the
    page holds, so never beyond this one rendering)."""
    read = records_request.__dict__.setdefault("_resident_documents", {})
    if (viewer, tracking) not in read:
        read[(viewer, tracking)] = access.resident_documents_read(
            PublicView(records_request, viewer, tracking)
        )
    return read[(viewer, tracking)]


@register.inclusion_tag("documents/_resident_panel.html", takes_context=True)
def resident_documents_panel(context, records_request, viewer, tracking=""):
    return {
        "r": records_request,
        "documents": _read(records_request, viewer, tracking)[0],
        "tracking": tracking,
        "csrf_token": context.get("csrf_token"),
        "requester_uploads": viewer == "requester"
        and access.settings_for(records_request.agency).requester_uploads,
    }


@register.simple_tag
def released_records_note(records_request, viewer, tracking=""):
    """What this reader can see of a closed request's records, in words: the closing reason
    ("Records released in full") says nothing of where they went, and the public page of a
    request released to the requester only would otherwise promise records it does not show."""
    documents, beyond_staff = _read(records_request, viewer, tracking)
    shown = bool(documents)
    if viewer == "requester":
        if shown:
            return _("Your released records are listed below.")
        return _("None are available to download here.")
    if shown:
        return _("Released records are listed below.")
    if beyond_staff:
        return _("Released to the requester only; none are published here.")
    return _("None are published here.")
