"""Open data's endpoints: public (no sign-in, no session, no CSRF), read-only, on the agency's
own host; another host (the platform's) answers 404."""

from __future__ import annotations

import uuid

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.models import Agency
from api.open_data import exports, paging, records
from api.open_data import schema as docs
from requests_portal import access as request_access
from requests_portal import forms, keyset
from requests_portal.filters import archive_filters
from requests_portal.models import RecordsRequest
from requests_portal.search import newest_ranked, public_search

TAG = ["open data"]
NOT_MODIFIED = OpenApiResponse(description="Not modified: the client's copy is current.")


def _agency(request) -> Agency:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    return agency


def _filters(request, agency: Agency) -> dict:
    """The archive's own filter form, so the API filters as the archive page does."""
    if not any(name in request.query_params for name in forms.ArchiveFilterForm.base_fields):
        # No filter given (most calls: a page of the list): the form would clean every field
        # to empty; skip building it and its departments query.
        return {}
    form = forms.ArchiveFilterForm(
        request.query_params, departments=request_access.public_departments(agency)
    )
    if not form.is_valid():
        raise exceptions.ValidationError(
            {name: [str(message) for message in errors] for name, errors in form.errors.items()}
        )
    return form.cleaned_data


def _after_number(request) -> tuple[int, int] | None:
    raw = request.query_params.get("after", "")
    if raw == "":
        return None
    match = request_access.NUMBER.fullmatch(raw)
    if match is None:
        raise exceptions.ValidationError({"after": [gettext("Give a request number like 26-142.")]})
    return 2000 + int(match.group(1)), int(match.group(2))


def _number(row: dict) -> str:
    return RecordsRequest.number_of(row["year"], row["sequence"])


class KeepSignedInUser(SessionAuthentication):
    """Open data needs no sign-in and reads nothing about the caller; but a signed-in
    member's visit is still on the audit log like every page (AuditAccessMiddleware reads
    the Django request's user, which DRF would otherwise replace with an anonymous one).
    Read-only endpoints (GET and HEAD), which CSRF leaves alone."""


class OpenDataView(APIView):
    authentication_classes = [KeepSignedInUser]
    permission_classes = [AllowAny]


class OpenRequestList(OpenDataView):
    @extend_schema(
        tags=TAG,
        operation_id="open_data_requests_list",
        summary="An agency's public requests",
        parameters=[docs.PAGE_SIZE, docs.AFTER_REQUEST, *docs.REQUEST_FILTERS],
        responses={200: docs.OpenRequestPageSerializer, 304: NOT_MODIFIED},
    )
    def get(self, request) -> HttpResponse:
        agency = _agency(request)
        data = _filters(request, agency)
        size = paging.page_size(request)
        query = (data.get("q") or "").strip()
        if query:
            return self._search(request, agency, data, query, size)
        listed = archive_filters(records.public_requests(agency), data)
        after = _after_number(request)
        if after is not None:
            listed = keyset.older_than(listed, after)  # a row comparison the index serves
        rows = list(listed[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        body = {
            "results": records.request_records(rows),
            "next": paging.next_link(request, after=_number(rows[-1])) if more else None,
        }
        return paging.cacheable_json(request, body, paging.newest(r["updated_at"] for r in rows))

    def _search(self, request, agency, data, query, size) -> HttpResponse:
        last_page = max(1, -(-paging.SEARCH_CAP // size))
        page = paging.page_number(request, last=last_page)
        entries = archive_filters(public_search(agency, query), data, prefix="request__")
        # The newest SEARCH_CAP matches, best first: a cost that does not grow with the archive
        # (requests_portal.search.newest_ranked), as on the archive page.
        ranked = newest_ranked(agency, entries, paging.SEARCH_CAP)[: paging.SEARCH_CAP]
        start = (page - 1) * size
        ids = ranked[start : start + size]
        more = len(ranked) > start + size and page < last_page
        found = {row["id"]: row for row in records.public_requests(agency).filter(pk__in=ids)}
        rows = [found[pk] for pk in ids if pk in found]
        body = {
            "results": records.request_records(rows),
            "next": paging.next_link(request, page=page + 1) if more else None,
        }
        return paging.cacheable_json(request, body, paging.newest(r["updated_at"] for r in rows))


class OpenRequestDetail(OpenDataView):
    @extend_schema(
        tags=TAG,
        summary="One public request",
        responses={200: docs.OpenRequestSerializer, 304: NOT_MODIFIED},
    )
    def get(self, request, number: str) -> HttpResponse:
        agency = _agency(request)
        match = request_access.NUMBER.fullmatch(number)
        if match is None:
            raise Http404
        found = (
            records.public_requests(agency)
            .filter(year=2000 + int(match.group(1)), sequence=int(match.group(2)))
            .first()
        )
        if found is None:
            raise Http404
        body = records.request_record(found)
        return paging.cacheable_json(request, body, found["updated_at"])


class OpenDocumentList(OpenDataView):
    @extend_schema(
        tags=TAG,
        operation_id="open_data_documents_list",
        summary="An agency's released documents (metadata)",
        parameters=[docs.PAGE_SIZE, docs.AFTER_DOCUMENT],
        responses={200: docs.OpenDocumentPageSerializer, 304: NOT_MODIFIED},
    )
    def get(self, request) -> HttpResponse:
        agency = _agency(request)
        size = paging.page_size(request)
        listed = records.public_documents(agency)
        raw_after = request.query_params.get("after", "")
        if raw_after:
            try:
                key = uuid.UUID(raw_after)
            except ValueError:
                key = None
            last = listed.filter(public_id=key).first() if key else None
            if last is None:
                raise exceptions.ValidationError(
                    {"after": [gettext("Give the id of a document of the previous page.")]}
                )
            listed = listed.filter(
                Q(released_at__lt=last.released_at)
                | Q(released_at=last.released_at, id__lt=last.pk)
            )
        rows = list(listed[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        body = {
            "results": [records.document_record(d) for d in rows],
            "next": paging.next_link(request, after=rows[-1].public_id) if more else None,
        }
        return paging.cacheable_json(request, body, paging.newest(d.released_at for d in rows))


class OpenDataExport(OpenDataView):
    """The whole list in one streamed file: ``requests`` or ``documents``, CSV or JSON."""

    @extend_schema(
        tags=TAG,
        summary="Bulk export of an agency's public requests or released documents",
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            # A JSON array of the list's items (requests or documents).
            (200, "application/json"): {"type": "array", "items": {"type": "object"}},
        },
    )
    def get(self, request, dataset: str, fmt: str) -> HttpResponse:
        agency = _agency(request)
        if dataset not in exports.DATASETS or fmt not in exports.FORMATS:
            raise Http404
        return exports.streamed(agency, dataset, fmt)
