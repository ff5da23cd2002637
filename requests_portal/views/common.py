"""Small helpers the requests app's pages share."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from accounts.models import Agency


def agency_or_404(request: HttpRequest) -> Agency:
    """The agency of the host; the platform's own host has no request pages."""
    if request.agency is None:
        raise Http404
    return request.agency


def page_params(request: HttpRequest) -> str:
    """The page's query string without its page number, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
