"""What open data answers, described for the OpenAPI schema (the views build the same fields
in ``records.py``; tests/api/test_open_data.py checks that the two agree)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from api.open_data import paging


class OpenRequestSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="The request's number, YY-N.")
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    received_on = serializers.DateField(help_text="The day the request counts from.")
    due_date = serializers.DateField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closure_reason = serializers.CharField(allow_blank=True)
    request_type = serializers.CharField(allow_blank=True)
    departments = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField()


class OpenDocumentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    request_number = serializers.CharField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    released_at = serializers.DateTimeField(allow_null=True)


class OpenRequestPageSerializer(serializers.Serializer):
    results = OpenRequestSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class OpenDocumentPageSerializer(serializers.Serializer):
    results = OpenDocumentSerializer(many=True)
    next = serializers.URLField(allow_null=True)


PAGE_SIZE = OpenApiParameter(
    "page_size", OpenApiTypes.INT, description="Items per page, 1 to 200 (default 50)."
)
AFTER_REQUEST = OpenApiParameter(
    "after",
    OpenApiTypes.STR,
    description="Continue after this request number (the last one of the previous page).",
    pattern=r"^[0-9]{2}-[0-9]{1,9}$",
)
AFTER_DOCUMENT = OpenApiParameter(
    "after",
    OpenApiTypes.UUID,
    description="Continue after this document (the last one of the previous page).",
)
REQUEST_FILTERS = [
    OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        description=f"Full-text search: the newest {paging.SEARCH_CAP} matches, best match first.",
    ),
    OpenApiParameter(
        "page",
        OpenApiTypes.INT,
        description=f"With q only: the page of results (at most {paging.SEARCH_CAP} results).",
    ),
    OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "closed"]),
    OpenApiParameter("department", OpenApiTypes.INT, description="A department's id."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Filed on or after."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Filed on or before."),
]
