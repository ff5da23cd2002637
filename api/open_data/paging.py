"""Open data's paging and caching.

Paging is by key, not by offset: ``?after=<the last item of the page>`` continues after it,
so page 20,000 costs what page 1 does and an item published meanwhile never shifts a page.
``page_size`` is 1 to ``API_MAX_PAGE_SIZE``; anything else is a 400 with a message.

Caching: every answer carries a strong ETag (a digest of its body), a Last-Modified (the
newest change among the items it lists) and ``Cache-Control: public, max-age=60``; a client
that sends the ETag back in If-None-Match (or the date in If-Modified-Since) gets 304 and no
body. A request taken out of the archive changes the body, so the ETag; it may leave the
page's newest date unchanged, which is why If-None-Match is the one to prefer (docs/api.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.settings import api_settings

OPEN_DATA_MAX_AGE = 60
# The largest page a client may ask for (config.api_settings.API_MAX_PAGE_SIZE; api may not
# import config).
API_MAX_PAGE_SIZE = 200
# Search answers at most this many results (as the archive page does).
SEARCH_CAP = 1000


def page_size(request) -> int:
    raw = request.query_params.get("page_size", "")
    if raw == "":
        return int(api_settings.PAGE_SIZE or 50)
    if not raw.isdigit() or not 1 <= int(raw) <= API_MAX_PAGE_SIZE:
        raise exceptions.ValidationError(
            {
                "page_size": [
                    gettext("Give a whole number from 1 to %(max)d.") % {"max": API_MAX_PAGE_SIZE}
                ]
            }
        )
    return int(raw)


def page_number(request, *, last: int) -> int:
    raw = request.query_params.get("page", "")
    if raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= last:
        raise exceptions.ValidationError(
            {"page": [gettext("Give a whole number from 1 to %(max)d.") % {"max": last}]}
        )
    return int(raw)


def next_link(request, **params: Any) -> str:
    query = request.query_params.copy()
    for key, value in params.items():
        query[key] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def newest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def cacheable_json(request: HttpRequest, body: Any, last_modified: datetime | None) -> HttpResponse:
    """A public JSON answer with its validators, or 304 when the client's copy is current."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    etag = quote_etag(hashlib.sha256(content).hexdigest()[:40])
    timestamp = int(last_modified.timestamp()) if last_modified is not None else None
    response: HttpResponse | None = get_conditional_response(
        request, etag=etag, last_modified=timestamp
    )
    if response is None:
        response = HttpResponse(content, content_type="application/json")
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    public_cache(response)
    return response


def public_cache(response: HttpResponse) -> None:
    patch_cache_control(response, public=True, max_age=OPEN_DATA_MAX_AGE)
