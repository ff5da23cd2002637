"""Invoices (issue 14): staff who may see billing (``invoice.view``) read the invoices of the
requests they can open; whoever may invoice a request (``request.invoice``, on that request
as ``requests_portal.access.can_act_on`` decides: publishers, admins, department admins on
their departments' requests) starts a draft, through billing's own service as the web does.
Amounts are integer cents with the invoice's currency."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from api.agency_permission import needs
from api.open_data import paging
from billing import access
from billing.errors import BillingError
from billing.models import Invoice, InvoiceStatus
from billing.services import invoices
from requests_portal import access as request_access

TAG = ["invoices"]


class InvoiceLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_cents = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    request_number = serializers.CharField(source="request.number")
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    currency = serializers.CharField(help_text="ISO 4217, lower case.")
    subtotal_cents = serializers.IntegerField()
    waived_cents = serializers.IntegerField()
    total_cents = serializers.IntegerField()
    deposit_cents = serializers.IntegerField()
    paid_cents = serializers.IntegerField()
    refunded_cents = serializers.IntegerField()
    balance_cents = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True)


class InvoicePageSerializer(serializers.Serializer):
    results = InvoiceSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class InvoiceCreateSerializer(serializers.Serializer):
    request = serializers.RegexField(
        r"^[0-9]{2}-[0-9]{1,9}$", help_text="The request's number, YY-N."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _detail(invoice: Invoice) -> dict:
    data = dict(InvoiceSerializer(invoice).data)
    data["lines"] = InvoiceLineSerializer(access.invoice_lines(invoice), many=True).data
    return data


class InvoiceList(APIView):
    permission_classes = [needs(policy.INVOICE_VIEW, policy.REQUEST_INVOICE)]

    @extend_schema(
        tags=TAG,
        operation_id="invoices_list",
        summary="Invoices of the requests you can open",
        parameters=[
            OpenApiParameter("request", OpenApiTypes.STR, description="A request's number."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=InvoiceStatus.values),
            OpenApiParameter("after", OpenApiTypes.INT, description="Continue after this id."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (50)."),
        ],
        responses=InvoicePageSerializer,
    )
    def get(self, request) -> Response:
        size = paging.page_size(request)
        listed = access.invoices_for_staff(request.user, request.agency).select_related("request")
        params = request.query_params
        problems: dict[str, list[str]] = {}
        if params.get("status"):
            if params["status"] not in InvoiceStatus.values:
                problems["status"] = [
                    gettext("Choose one of: %(values)s.")
                    % {"values": ", ".join(InvoiceStatus.values)}
                ]
            listed = listed.filter(status=params["status"])
        if params.get("request"):
            match = request_access.NUMBER.fullmatch(params["request"])
            if match is None:
                problems["request"] = [gettext("Give a request number like 26-142.")]
            else:
                year, sequence = 2000 + int(match.group(1)), int(match.group(2))
                listed = listed.filter(request__year=year, request__sequence=sequence)
        if params.get("after"):
            if not params["after"].isdigit() or len(params["after"]) > 18:
                problems["after"] = [
                    gettext("Give the id of the last invoice of the previous page.")
                ]
            else:
                listed = listed.filter(pk__lt=int(params["after"]))
        if problems:
            raise exceptions.ValidationError(problems)
        rows = list(listed.order_by("-pk")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return Response(
            {
                "results": InvoiceSerializer(rows, many=True).data,
                "next": paging.next_link(request, after=rows[-1].pk) if more else None,
            }
        )

    @extend_schema(
        tags=TAG,
        summary="Start a draft invoice on a request",
        request=InvoiceCreateSerializer,
        responses={201: InvoiceDetailSerializer},
    )
    def post(self, request) -> Response:
        body = InvoiceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        records_request = request_access.get_request_for_staff(
            request.user, request.agency, body.validated_data["request"]
        )
        if not request_access.can_act_on(
            request.user, request.agency, records_request, policy.REQUEST_INVOICE
        ):
            raise PermissionDenied
        try:
            invoice = invoices.invoice_create(
                records_request=records_request,
                actor=request.user,
                note=body.validated_data.get("note", ""),
                http_request=request._request,
            )
        except BillingError as error:
            raise exceptions.ValidationError({"request": [str(error)]}) from None
        return Response(_detail(invoice), status=status.HTTP_201_CREATED)


class InvoiceDetail(APIView):
    permission_classes = [needs(policy.INVOICE_VIEW)]

    @extend_schema(tags=TAG, summary="One invoice and its lines", responses=InvoiceDetailSerializer)
    def get(self, request, invoice_id: int) -> Response:
        return Response(_detail(access.invoice_for_staff(request.user, request.agency, invoice_id)))


urlpatterns = [
    path("invoices/", InvoiceList.as_view(), name="invoices"),
    path("invoices/<int:invoice_id>/", InvoiceDetail.as_view(), name="invoice"),
]
