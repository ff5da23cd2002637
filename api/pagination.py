"""Keyset pagination for every API list: a page is the rows after an opaque cursor in a
fixed order on one unique integer column (``id`` by default, newest first), so page 10,000
costs what page 1 does and rows filed between two calls never shift a page.

``?page_size=`` is bounded (1 to ``API_MAX_PAGE_SIZE``); an invalid size or cursor answers
400 with a message for that parameter, never a silently different page."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

# The largest page a caller may ask for (the default size is REST_FRAMEWORK["PAGE_SIZE"]).
API_MAX_PAGE_SIZE = 200
CURSOR_PARAM = "cursor"
PAGE_SIZE_PARAM = "page_size"


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"k{value}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> int:
    """The key a cursor names; a cursor this API did not write is a 400."""
    try:
        padded = raw + "=" * (-len(raw) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if len(text) < 2 or text[0] != "k" or not text[1:].isdigit() or len(text) > 20:
        raise ValidationError({CURSOR_PARAM: [gettext("This cursor is not valid.")]})
    return int(text[1:])


def page_size_of(request) -> int:
    raw = request.query_params.get(PAGE_SIZE_PARAM)
    if raw is None or raw == "":
        return int(settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50)
    if not raw.isdigit() or not 1 <= int(raw) <= API_MAX_PAGE_SIZE:
        raise ValidationError(
            {
                PAGE_SIZE_PARAM: [
                    gettext("Give a whole number from 1 to %(max)s.") % {"max": API_MAX_PAGE_SIZE}
                ]
            }
        )
    return int(raw)


# A search answers at most this many results, best first (as the archive page does).
SEARCH_CAP = 1000


def ranked_page(request, ranked: list[int]) -> tuple[list[int], str | None]:
    """A page of a search's ids, already best first (at most SEARCH_CAP of them are
    reachable), and the cursor of the next page or None. A search ranks its matches on each
    call, so its cursor names a position in that ranking instead of a key."""
    size = page_size_of(request)
    raw = request.query_params.get(CURSOR_PARAM)
    start = decode_cursor(raw) if raw else 0
    reachable = ranked[:SEARCH_CAP]
    end = start + size
    return reachable[start:end], encode_cursor(end) if len(reachable) > end else None


def cursor_response(request, data, cursor: str | None) -> Response:
    """The list body every API list answers: next link, next cursor, results."""
    next_url = None
    if cursor is not None:
        next_url = replace_query_param(request.build_absolute_uri(), CURSOR_PARAM, cursor)
    return Response({"next": next_url, "next_cursor": cursor, "results": data})


class KeysetPagination(BasePagination):
    """Newest first on ``key_field`` (set ``descending = False`` on a subclass for oldest
    first). The queryset's own ordering is replaced by the key's."""

    key_field = "id"
    descending = True

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list[Any]:
        self.request = request
        size = page_size_of(request)
        raw = request.query_params.get(CURSOR_PARAM)
        ordered = queryset.order_by(f"-{self.key_field}" if self.descending else self.key_field)
        if raw:
            after = decode_cursor(raw)
            lookup = "lt" if self.descending else "gt"
            ordered = ordered.filter(**{f"{self.key_field}__{lookup}": after})
        rows = list(ordered[: size + 1])
        self.has_next = len(rows) > size
        self.page = rows[:size]
        return self.page

    def next_cursor(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return encode_cursor(getattr(self.page[-1], self.key_field))

    def get_paginated_response(self, data) -> Response:
        return cursor_response(self.request, data, self.next_cursor())

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "next_cursor", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "next_cursor": {"type": "string", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": CURSOR_PARAM,
                "in": "query",
                "required": False,
                "description": "The next_cursor of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": PAGE_SIZE_PARAM,
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {API_MAX_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": API_MAX_PAGE_SIZE},
            },
        ]
