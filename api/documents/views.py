"""The documents resource: a request's documents as the caller may see them (staff: every
document of a request they can see; its requester: the ones released to them), uploads
through the web's encrypted, scanned pipeline, and downloads through the web's expiring
links: the API issues a link bound to the caller and answers its address; fetching that
address with the same token streams the file exactly as the web's download page does."""

from __future__ import annotations

import uuid

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, Throttled, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts import policy
from api.parsers import PayloadTooLarge
from api.permissions import AgencySite, may_act, scope_for
from api.requests.views import request_for
from documents import access, links
from documents import views as document_pages
from documents.errors import DocumentError
from documents.models import Document, DocumentStatus, DownloadGrant
from documents.upload import services as uploads
from documents.upload import views as upload_pages
from documents.upload.handlers import EncryptingUploadHandler, Refused
from requests_portal.access import PublicView, Viewer
from vault.storage import StorageError

PERMISSIONS = [AgencySite, scope_for("documents")]
# What a multipart envelope adds around one file, at most (boundaries, headers).
ENVELOPE = 64 * 1024


class DocumentOut(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Document
        fields = ["id", "filename", "content_type", "size", "status", "release", "created_at"]
        read_only_fields = fields


LINK = inline_serializer(
    "DownloadLink",
    {
        "url": serializers.CharField(),
        "expires_at": serializers.DateTimeField(),
    },
)


def _documents(request, number: str):
    records_request, as_staff = request_for(request, number)
    if as_staff:
        found = access.staff_documents(request.user, request.agency, records_request)
    else:
        found = access.resident_documents(PublicView(records_request, Viewer.REQUESTER))
    return records_request, as_staff, found


def _document(request, number: str, document_id: uuid.UUID):
    records_request, as_staff, found = _documents(request, number)
    document = found.filter(public_id=document_id).first()
    if document is None:
        raise Http404
    return records_request, as_staff, document


class DocumentList(GenericAPIView):
    permission_classes = PERMISSIONS
    serializer_class = DocumentOut
    pagination_class = None
    parser_classes = [MultiPartParser]

    @extend_schema(responses={200: DocumentOut(many=True)}, summary="A request's documents")
    def get(self, request, number: str):
        _records_request, _staff, found = _documents(request, number)
        return Response(DocumentOut(found, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"files": {"type": "string", "format": "binary"}},
                "required": ["files"],
            }
        },
        responses={201: DocumentOut},
        summary=(
            "Upload one file: encrypted as it arrives, quarantined until scanned (staff; "
            "the requester where the agency takes requesters' files)"
        ),
    )
    def post(self, request, number: str):
        records_request, as_staff = request_for(request, number)
        if as_staff:
            if not may_act(request, records_request, policy.DOCUMENT_UPLOAD):
                raise PermissionDenied
        elif not access.settings_for(request.agency).requester_uploads:
            raise Http404  # as on the web: this agency takes no files from requesters
        # The web's uploads-per-person limit, before the body is read (each upload opens
        # storage and a scan).
        if upload_pages.uploads_exceeded(request._request):
            raise Throttled(detail=upload_pages.TOO_MANY_UPLOADS)
        by_requester = not as_staff
        limit = uploads.upload_limit(records_request.agency_id, by_requester=by_requester)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + ENVELOPE:
            raise PayloadTooLarge()  # refused before a byte of the body is read
        # The web's handler, installed before DRF parses the body: the file is sealed as it
        # arrives and dropped past the limit (nothing of it stored).
        handler = EncryptingUploadHandler(request._request, limit=limit, max_files=1)
        request._request.upload_handlers = [handler]
        request.upload_handlers = [handler]
        request.data  # noqa: B018  (parse now, through the handler)
        outcomes = handler.outcomes
        if not outcomes:
            raise ValidationError({"files": [gettext("Send one file in the field “files”.")]})
        outcome = outcomes[0]
        if isinstance(outcome, Refused):
            try:
                started = uploads.upload_start(
                    records_request=records_request,
                    filename=outcome.name,
                    size=outcome.received,
                    actor=request.user,
                    by_requester=by_requester,
                    http_request=request._request,
                )
            except DocumentError as error:
                raise PayloadTooLarge(str(error)) from error
            uploads.upload_abandon(upload=started)
            raise ValidationError({"files": [gettext("Upload this file again.")]})
        try:
            document = uploads.upload_whole(
                records_request=records_request,
                filename=outcome.name,
                size=outcome.size,
                chunks=outcome.chunks(),
                actor=request.user,
                by_requester=by_requester,
                http_request=request._request,
            )
        except DocumentError as error:
            raise ValidationError({"files": [str(error)]}) from error
        except StorageError as error:
            raise APIException(gettext("Storage is unavailable; try again later.")) from error
        finally:
            for each in handler.files:
                each.close()
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


class DocumentRead(GenericAPIView):
    permission_classes = PERMISSIONS
    serializer_class = DocumentOut

    @extend_schema(summary="One document's metadata")
    def get(self, request, number: str, document_id: uuid.UUID):
        _records_request, _staff, document = _document(request, number, document_id)
        return Response(DocumentOut(document).data)


class DocumentLink(GenericAPIView):
    permission_classes = PERMISSIONS
    serializer_class = None

    @extend_schema(
        request=None,
        responses={201: LINK},
        summary="A download link for the caller, valid for minutes (the web's links)",
    )
    def post(self, request, number: str, document_id: uuid.UUID):
        _records_request, as_staff, document = _document(request, number, document_id)
        if as_staff:
            if document.status not in document_pages.STAFF_DOWNLOADABLE:
                raise ValidationError(
                    {"non_field_errors": [gettext("This file is still being scanned or blocked.")]}
                )
            version = access.original_version(document)  # staff read the original
            audience = DownloadGrant.Audience.STAFF
        else:
            if document.status != DocumentStatus.CLEAN:
                raise Http404
            version = access.released_version(document)
            audience = DownloadGrant.Audience.REQUESTER
        link = links.link_issue(
            version=version, audience=audience, user=request.user, http_request=request._request
        )
        url = reverse("api:document_download", args=[link.token])
        return Response(
            {"url": request.build_absolute_uri(url), "expires_at": link.grant.expires_at},
            status=status.HTTP_201_CREATED,
        )


class DocumentDownload(GenericAPIView):
    """The web's download view behind the API's authentication: the link is checked (this
    caller, this agency, unexpired, unrevoked), the permission again, the download recorded."""

    permission_classes = PERMISSIONS
    serializer_class = None

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download through a link from …/link/ (with the same token)",
    )
    def get(self, request, token: str):
        return document_pages.download(request._request, token=token)
