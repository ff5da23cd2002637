"""What the requests resource reads and answers. Input is checked twice: here for its JSON
shape (types, lengths), then by the web's own form (requests_portal.forms) for every rule the
web form has, so the API accepts exactly what the web accepts."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from rest_framework import serializers

from requests_portal.models import Delivery, MessageKind, RecordsRequest, Status, Visibility


class RequestSummary(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices)

    class Meta:
        model = RecordsRequest
        fields = [
            "number",
            "title",
            "status",
            "visibility",
            "received_at",
            "day_zero",
            "due_date",
            "closed_at",
        ]
        read_only_fields = fields


# The columns summaries() reads (with .values): RequestSummary's own, but a request's number
# is made of its year and sequence.
SUMMARY_VALUES = (
    "year",
    "sequence",
    *(name for name in RequestSummary.Meta.fields if name != "number"),
)


@cache
def _summary_fields() -> list[tuple[str, serializers.Field]]:
    """RequestSummary's fields but the number, made once (they read nothing per request)."""
    return [(name, field) for name, field in RequestSummary().fields.items() if name != "number"]


def summaries(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``RequestSummary(many=True).data`` of rows read with ``.values(*SUMMARY_VALUES)``:
    each value through RequestSummary's own field (a test holds the JSON equal), without a
    model instance and DRF's attribute walk per row, which cost a search page more than its
    own query."""
    fields = _summary_fields()
    return [
        {
            "number": RecordsRequest.number_of(row["year"], row["sequence"]),
            **{
                name: None if row[name] is None else field.to_representation(row[name])
                for name, field in fields
            },
        }
        for row in rows
    ]


class RequestDetail(RequestSummary):
    departments = serializers.SerializerMethodField()

    class Meta(RequestSummary.Meta):
        fields = [
            *RequestSummary.Meta.fields,
            "description",
            "delivery",
            "acknowledge_due_date",
            "acknowledged_at",
            "paused_at",
            "departments",
        ]
        read_only_fields = fields

    def get_departments(self, obj) -> list[str]:
        return list(self.context.get("departments", []))


class RequestFile(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    department = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    delivery = serializers.ChoiceField(choices=Delivery.choices, default=Delivery.ELECTRONIC)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    private = serializers.BooleanField(required=False, default=False)
    private_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    submission_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Send the same key again (a retry) and the request already filed is answered.",
    )


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    from_agency = serializers.SerializerMethodField()

    def get_from_agency(self, obj) -> bool:
        return obj.kind != MessageKind.FROM_REQUESTER


class MessageIn(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    kind = serializers.ChoiceField(
        choices=MessageKind.choices,
        required=False,
        help_text="Staff: internal, to_requester or public_note. Requesters: leave it out.",
    )
    notify = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=50
    )


class TimelineOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    is_public = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ActionIn(serializers.Serializer):
    """Every action's fields; each action reads the ones it needs (see the description)."""

    reason = serializers.CharField(max_length=300, required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    departments = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=50
    )
    lead = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    point_of_contact = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    citation = serializers.CharField(max_length=300, required=False, allow_blank=True)
    note = serializers.CharField(max_length=20000, required=False, allow_blank=True)


class ActionDone(serializers.Serializer):
    request = RequestDetail()
    message = serializers.CharField()
