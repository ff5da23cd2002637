"""The requests resource: the web's access helpers decide who reads what, the web's forms
validate, the web's services change (and audit) — one implementation of every rule.

Staff (a session, or a token bound to this agency, with a staff role) read what the staff
queue shows them; everyone else reads the requests they filed. Another agency's request, or
one the caller may not read, is a 404 like a missing one."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts import policy, ratelimits
from accounts.local_time import agency_today
from api.pagination import SEARCH_CAP, KeysetPagination, cursor_response, ranked_page
from api.permissions import AgencySite, may_act, membership_of, scope_for
from api.requests import actions
from api.requests.serializers import (
    SUMMARY_VALUES,
    ActionDone,
    ActionIn,
    MessageIn,
    MessageOut,
    RequestDetail,
    RequestFile,
    RequestSummary,
    TimelineOut,
    summaries,
)
from requests_portal import access, forms, queue_access
from requests_portal.filters import archive_filters
from requests_portal.models import Channel, MessageKind, RecordsRequest
from requests_portal.search import newest_matches_ranked, newest_ranked_requests, search
from requests_portal.services import clock, messaging, submission
from requests_portal.services.changes import RequestStateError
from requests_portal.views.staff_request import build_form

PERMISSIONS = [AgencySite, scope_for("requests")]


def is_staff_caller(request) -> bool:
    membership = membership_of(request)
    return membership is not None and policy.role_has(membership.role, policy.STAFF_AREA)


def request_for(request, number: str) -> tuple[RecordsRequest, bool]:
    """The request as the caller may read it, and whether they read it as staff."""
    if is_staff_caller(request):
        return access.get_request_for_staff(request.user, request.agency, number), True
    view = access.get_request_for_resident(request.user, request.agency, number)
    if view.viewer != access.Viewer.REQUESTER:
        raise Http404  # the API's requests are one's own; the public reads the archive
    return view.request, False


def form_errors(form) -> ValidationError:
    return ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})


def detail_body(request, records_request: RecordsRequest) -> dict:
    departments = access.departments_of(request.user, request.agency, records_request)
    return RequestDetail(
        records_request, context={"departments": [d.name for d in departments]}
    ).data


FILTERS = [
    OpenApiParameter("q", str, description="Full-text search (web search syntax)."),
    OpenApiParameter(
        "status",
        str,
        description="Staff: overdue, submitted, open, paused, closed or any (default: not "
        "closed). Requesters: open or closed.",
    ),
    OpenApiParameter("department", int, description="A department's id."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Counted from on or after."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Counted from on or before."),
    OpenApiParameter("scope", str, description="Staff: all, mine (assigned to me), departments."),
]


# What RequestSummary reads of a request (its number is made of year and sequence).
SUMMARY_COLUMNS = ("id", "agency_id", *SUMMARY_VALUES)


class RequestList(GenericAPIView):
    permission_classes = PERMISSIONS
    pagination_class = KeysetPagination
    serializer_class = RequestSummary

    def filtered(self, request):
        agency = request.agency
        departments = access.departments_for(request.user, agency)
        if is_staff_caller(request):
            form = forms.QueueFilterForm(request.query_params, departments=departments)
            if not form.is_valid():
                raise form_errors(form)
            # The search itself is left to get(): it ranks the newest matches only.
            queue = queue_access.staff_queue_for(
                request.user,
                agency,
                {**form.cleaned_data, "q": ""},
                today=agency_today(agency),
                with_counts=False,
            )
            return queue.requests, (form.cleaned_data.get("q") or "").strip()
        form = forms.ArchiveFilterForm(request.query_params, departments=departments)
        if not form.is_valid():
            raise form_errors(form)
        mine = archive_filters(
            access.requester_requests_for(request.user, agency), form.cleaned_data
        )
        return mine, (form.cleaned_data.get("q") or "").strip()

    @extend_schema(
        parameters=FILTERS,
        operation_id="requests_list",
        responses={200: RequestSummary(many=True)},
        summary="The requests you may read, newest first; with q, best match first",
    )
    def get(self, request):
        listed, query = self.filtered(request)
        # Only the columns a summary shows (not the description, the search vector or the
        # point of contact): a page of 50 is read and built in a fraction of the time.
        listed = listed.select_related(None).only(*SUMMARY_COLUMNS)
        if query:
            # Ranked as the archive ranks: the newest SEARCH_CAP + 1 matches, best first. A
            # requester's own requests are few: no walk over the agency's newest is needed.
            ranked = (
                newest_ranked_requests(request.agency, listed, query, SEARCH_CAP)
                if is_staff_caller(request)
                else newest_matches_ranked(search(listed, query), SEARCH_CAP)
            )
            ids, cursor = ranked_page(request, ranked)
            found = {
                row["id"]: row for row in listed.filter(pk__in=ids).values("id", *SUMMARY_VALUES)
            }
            return cursor_response(
                request, summaries(found[pk] for pk in ids if pk in found), cursor
            )
        page = self.paginate_queryset(listed)
        return self.get_paginated_response(RequestSummary(page, many=True).data)

    @extend_schema(
        request=RequestFile,
        responses={201: RequestDetail},
        summary="File a request (as the web form does, with its rules and rate limits)",
    )
    def post(self, request):
        agency = request.agency
        shape = RequestFile(data=request.data)
        shape.is_valid(raise_exception=True)
        over = ratelimits.limited(
            request._request,
            group="request_submit_ip",
            key=ratelimits.ip_key,
            rate=settings.REQUEST_SUBMIT_RATE_PER_IP,
        ) or ratelimits.limited(
            request._request,
            group="request_submit_email",
            key=lambda group, r: request.user.email.lower(),
            rate=settings.REQUEST_SUBMIT_RATE_PER_EMAIL,
        )
        if over:
            raise Throttled(
                detail=gettext(
                    "You have sent several requests in a short time. Please wait an hour."
                )
            )
        request_settings = clock.settings_for(agency)
        data = {k: v for k, v in shape.validated_data.items() if v is not None}
        data["submission_key"] = str(data.get("submission_key") or "")
        form = forms.RequestForm(
            data,
            departments=access.public_departments(agency)
            if request_settings.show_department_picker
            else None,
            allow_anonymous=request_settings.allow_anonymous,
            user=request.user,
            request_types=None,
            custom_fields=access.active_custom_fields(agency),
            allow_private=request_settings.allow_private_requests,
        )
        if not form.is_valid():
            raise form_errors(form)
        cleaned = form.cleaned_data
        try:
            filed = submission.request_submit(
                agency=agency,
                actor=request.user,
                title=cleaned["title"],
                description=cleaned["description"],
                contact=submission.Contact(
                    name=cleaned["name"],
                    email=request.user.email,
                    phone=cleaned["phone"],
                    address=cleaned["address"],
                ),
                department=cleaned.get("department"),
                delivery=cleaned["delivery"],
                channel=Channel.API,
                custom_data=form.custom_data(),
                submission_key=cleaned.get("submission_key"),
                private_reason=form.privacy_reason(),
                http_request=request._request,
            )
        except RequestStateError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        return Response(detail_body(request, filed), status=status.HTTP_201_CREATED)


class RequestRead(GenericAPIView):
    permission_classes = PERMISSIONS
    serializer_class = RequestDetail

    @extend_schema(summary="One request")
    def get(self, request, number: str):
        records_request, _staff = request_for(request, number)
        return Response(detail_body(request, records_request))


class RequestMessages(GenericAPIView):
    permission_classes = PERMISSIONS
    pagination_class = None
    serializer_class = MessageOut

    @extend_schema(responses={200: MessageOut(many=True)}, summary="The request's messages")
    def get(self, request, number: str):
        records_request, as_staff = request_for(request, number)
        found = access.messages_for(
            request.user,
            request.agency,
            records_request,
            viewer=None if as_staff else access.Viewer.REQUESTER,
        )
        return Response(MessageOut(found, many=True).data)

    @extend_schema(
        request=MessageIn,
        responses={201: MessageOut},
        summary="Write on the request: staff a note or a message, its requester a reply",
    )
    def post(self, request, number: str):
        records_request, as_staff = request_for(request, number)
        shape = MessageIn(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        if as_staff:
            if not may_act(request, records_request, policy.REQUEST_INTERNAL_WORK):
                raise PermissionDenied
            form = build_form(
                "message",
                request._request,
                records_request,
                {
                    "body": data["body"],
                    "kind": data.get("kind", MessageKind.INTERNAL),
                    "notify": [str(n) for n in data.get("notify", [])],
                },
            )
            if not form.is_valid():
                raise form_errors(form)
            arguments = {k: form.cleaned_data[k] for k in ("kind", "body", "notify")}
        else:
            if data.get("kind") not in (None, MessageKind.FROM_REQUESTER):
                raise ValidationError({"kind": [gettext("Requesters send replies only.")]})
            arguments = {"kind": MessageKind.FROM_REQUESTER, "body": data["body"]}
        try:
            with transaction.atomic():
                message = messaging.request_message(
                    records_request=records_request,
                    actor=request.user,
                    http_request=request._request,
                    **arguments,
                )
        except RequestStateError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        return Response(MessageOut(message).data, status=status.HTTP_201_CREATED)


class RequestTimeline(GenericAPIView):
    permission_classes = PERMISSIONS
    pagination_class = None
    serializer_class = TimelineOut

    @extend_schema(
        responses={200: TimelineOut(many=True)},
        summary="The request's timeline, oldest first (requesters: its public entries)",
    )
    def get(self, request, number: str):
        records_request, as_staff = request_for(request, number)
        events = access.timeline_for(
            request.user, request.agency, records_request, public=not as_staff
        )
        return Response(TimelineOut(events, many=True).data)


class RequestAction(GenericAPIView):
    permission_classes = PERMISSIONS
    serializer_class = ActionIn

    @extend_schema(
        request=ActionIn,
        responses={200: ActionDone},
        parameters=[
            OpenApiParameter(
                "action",
                str,
                OpenApiParameter.PATH,
                enum=sorted(actions.ACTIONS),
                description=actions.DESCRIPTION,
            )
        ],
        summary="Take an action a role may take on the request (as on the staff page)",
    )
    def post(self, request, number: str, action: str):
        spec = actions.ACTIONS.get(action)
        if spec is None:
            raise Http404
        if not is_staff_caller(request):
            raise Http404  # requesters have no actions: the endpoint is not theirs
        records_request, _staff = request_for(request, number)
        if not may_act(request, records_request, spec.permission):
            raise PermissionDenied
        shape = ActionIn(data=request.data)
        shape.is_valid(raise_exception=True)
        arguments = {}
        if spec.form is not None:
            form = build_form(
                spec.form,
                request._request,
                records_request,
                actions.form_data(spec, shape.validated_data),
            )
            if not form.is_valid():
                raise form_errors(form)
            arguments = spec.arguments(form.cleaned_data)
        try:
            with transaction.atomic():
                spec.service(
                    records_request=records_request,
                    actor=request.user,
                    http_request=request._request,
                    **arguments,
                )
        except RequestStateError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        records_request.refresh_from_db()
        return Response(
            {"request": detail_body(request, records_request), "message": str(spec.done)}
        )
