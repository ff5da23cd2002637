"""Small helpers the requests app's pages share."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest
from django.utils import timezone

from accounts.models import Agency


def agency_or_404(request: HttpRequest) -> Agency:
    """The agency of the host; the platform's own host has no request pages."""
    if request.agency is None:
        raise Http404
    return request.agency


def agency_today(agency: Agency) -> datetime.date:
    """Today in the agency's time zone (its staff's "today", not the server's)."""
    return timezone.localtime(timezone.now(), ZoneInfo(agency.time_zone)).date()


def page_params(request: HttpRequest) -> str:
    """The page's query string without its page number, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
