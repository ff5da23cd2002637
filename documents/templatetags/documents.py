"""Document panels shown on the request pages of requests_portal (which knows nothing of
documents: the templates load these tags)."""

from django import template

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


@register.inclusion_tag("documents/_resident_panel.html", takes_context=True)
def resident_documents_panel(context, records_request, viewer, tracking=""):
    view = PublicView(records_request, viewer, tracking)
    return {
        "r": records_request,
        "documents": access.resident_documents(view),
        "tracking": tracking,
        "csrf_token": context.get("csrf_token"),
        "requester_uploads": viewer == "requester"
        and access.settings_for(records_request.agency).requester_uploads,
    }
