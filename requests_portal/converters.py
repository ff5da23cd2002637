"""URL converters of the records-request pages (used by documents' URLs too). Importing this
module registers them (once per process): a ``urls.py`` that uses one imports it."""

from __future__ import annotations

from django.urls import register_converter


class RequestNumberConverter:
    """A request number, YY-N (e.g. 26-142): ``RecordsRequest.number``."""

    regex = r"[0-9]{2}-[0-9]{1,9}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RequestNumberConverter, "number")
