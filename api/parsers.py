"""The API's JSON parser with a size limit: a body over ``API_MAX_JSON_BYTES`` is refused
with 413 before it is parsed (by its Content-Length when it declares one, else while it is
read, never more than the limit plus one byte)."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

DEFAULT_MAX_JSON_BYTES = 1024 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


def max_json_bytes() -> int:
    return getattr(settings, "API_MAX_JSON_BYTES", DEFAULT_MAX_JSON_BYTES)


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_json_bytes()
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(
                gettext("The request body is larger than %(n)s bytes.") % {"n": limit}
            )
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(
                gettext("The request body is larger than %(n)s bytes.") % {"n": limit}
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding))
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(gettext("The body is not valid JSON.")) from error
