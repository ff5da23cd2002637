"""URL converters of the API. Importing this module registers them."""

from __future__ import annotations

from django.urls import register_converter

from api.requests.actions import ACTIONS


class RequestActionConverter:
    """One of the request actions the API offers (api/requests/actions.py)."""

    regex = "(?:" + "|".join(sorted(ACTIONS)) + ")"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RequestActionConverter, "request_action")
