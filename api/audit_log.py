"""The agency's audit log (issue 14), for whoever holds ``audit.view`` (agency admins): the
web viewer's own filter form and keyset pages (audit.forms, audit.selectors), newest first,
paged along (time, id) with ``before`` / ``after`` cursors; no count, no offset.

Reading the log is itself recorded, as the web page is: AuditAccessMiddleware records a
``page.view`` event naming this endpoint, its query and its status, in the same transaction.
"""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from api.agency_permission import needs
from api.validation import validated
from audit import selectors
from audit.forms import EventFilterForm

TAG = ["audit events"]


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField(help_text="The kind of event, in words.")
    category = serializers.CharField()
    sentence = serializers.CharField(help_text="What happened, in words.")
    actor = serializers.CharField(help_text="Who did it (a name, or the system).")
    actor_id = serializers.IntegerField(allow_null=True)
    target_type = serializers.CharField(allow_blank=True)
    target_id = serializers.CharField(allow_blank=True)
    ip = serializers.IPAddressField(allow_null=True)
    details = serializers.JSONField()


class AuditPageSerializer(serializers.Serializer):
    results = AuditEventSerializer(many=True)
    newer = serializers.CharField(allow_null=True, help_text="Pass as ``after`` for newer events.")
    older = serializers.CharField(allow_null=True, help_text="Pass as ``before`` for older events.")
    searched_to = serializers.DateTimeField(
        allow_null=True,
        help_text="A details search (q) stopped at its budget here; ``older`` carries it on.",
    )


def _row(row: selectors.DescribedEvent) -> dict:
    event = row["event"]
    return {
        "id": event.pk,
        "created_at": event.created_at.isoformat(),
        "action": event.action,
        "label": row["label"],
        "category": row["category"],
        "sentence": row["sentence"],
        "actor": row["actor"],
        "actor_id": event.actor_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "details": event.details,
    }


_TEXT = OpenApiTypes.STR
FILTERS = [
    OpenApiParameter("category", _TEXT, description="A kind of event (its key)."),
    OpenApiParameter("action", _TEXT, description="An event's code."),
    OpenApiParameter("actor", _TEXT, description="Part of the actor's email or name."),
    OpenApiParameter("target_type", _TEXT, description="A kind of record."),
    OpenApiParameter("target_id", _TEXT, description="A record's number."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="From this day (agency's)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="To this day (agency's)."),
    OpenApiParameter("ip", _TEXT, description="An IP address or a network (CIDR)."),
    OpenApiParameter("q", _TEXT, description="Text in the event's details, as typed."),
    OpenApiParameter("before", _TEXT, description="Older than this cursor (a page's older)."),
    OpenApiParameter("after", _TEXT, description="Newer than this cursor (a page's newer)."),
]


class AuditEventList(APIView):
    permission_classes = [needs(policy.AUDIT_VIEW)]

    @extend_schema(
        operation_id="audit_events_list",
        tags=TAG,
        summary="The agency's audit log",
        parameters=FILTERS,
        responses=AuditPageSerializer,
    )
    def get(self, request) -> Response:
        # The agency's calendar days: TenantContextMiddleware activated its zone.
        form = EventFilterForm(request.query_params, zone=timezone.get_current_timezone())
        validated(form)
        page = selectors.keyset_page(
            request.agency.pk,
            form.filters(),
            before=form.cursor("before"),
            after=form.cursor("after"),
        )
        return Response(
            {
                "results": [_row(row) for row in selectors.describe(page.events)],
                "newer": str(page.newer) if page.newer else None,
                "older": str(page.older) if page.older else None,
                "searched_to": page.searched_to.isoformat() if page.searched_to else None,
            }
        )


class AuditEventDetail(APIView):
    permission_classes = [needs(policy.AUDIT_VIEW)]

    @extend_schema(tags=TAG, summary="One event of the audit log", responses=AuditEventSerializer)
    def get(self, request, event_id: int) -> Response:
        event = selectors.event_for_agency(request.agency.pk, event_id)
        [row] = selectors.describe([event])
        return Response(_row(row))


urlpatterns = [
    path("audit-events/", AuditEventList.as_view(), name="audit_events"),
    path("audit-events/<int:event_id>/", AuditEventDetail.as_view(), name="audit_event"),
]
