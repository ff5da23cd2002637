"""Who may see which document. A document is never more visible than its request:

- staff see every document of a request they can see (requests_portal.access);
- the requester (signed in, or with the request's tracking link) sees documents released to
  the requester or to the public, once scanned;
- the public sees documents released to the public, of requests that are public now.

Another agency's document, or one the viewer may not see, is a 404 like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.http import Http404

from accounts import policy
from accounts.models import Agency, User
from documents.models import (
    Document,
    DocumentSettings,
    DocumentStatus,
    DocumentVersion,
    Finding,
    Redaction,
    RedactionReason,
    ReleaseLevel,
    Upload,
    UploadStatus,
    VersionKind,
)
from requests_portal import access as request_access
from requests_portal.access import PublicView, Viewer
from requests_portal.models import RecordsRequest


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def settings_for(agency: Agency) -> DocumentSettings:
    return settings_for_id(agency.pk)


def settings_for_id(agency_id: int) -> DocumentSettings:
    found = DocumentSettings.objects.filter(agency=agency_id).first()
    return found if found is not None else DocumentSettings(agency_id=agency_id)


# --- Staff -----------------------------------------------------------------------------------


def staff_documents(
    user: User | AnonymousUser, agency: Agency, records_request: RecordsRequest
) -> QuerySet[Document]:
    visible = request_access.staff_requests_for(user, agency).filter(pk=records_request.pk)
    if not visible.exists():
        return Document.objects.none()
    return Document.objects.filter(agency=agency, request=records_request).order_by("created_at")


def get_document_for_staff(
    user: User | AnonymousUser, agency: Agency, public_id: uuid.UUID | str
) -> Document:
    key = _uuid(public_id)
    found = (
        Document.objects.filter(
            agency=agency,
            public_id=key,
            request__in=request_access.staff_requests_for(user, agency),
        )
        .select_related("request")
        .first()
        if key
        else None
    )
    if found is None:
        raise Http404
    return found


def get_request_document_for_staff(
    user: User | AnonymousUser, agency: Agency, number: str, public_id: uuid.UUID | str
) -> tuple[RecordsRequest, Document]:
    """A request staff can see, by its number, and one of its documents (the URLs of a
    document's pages name both: a document of another request is a 404)."""
    records_request = request_access.get_request_for_staff(user, agency, number)
    document = get_document_for_staff(user, agency, public_id)
    if document.request_id != records_request.pk:
        raise Http404
    return records_request, document


def can_release(user: User | AnonymousUser, agency: Agency, document: Document) -> bool:
    return request_access.can_act_on(user, agency, document.request, policy.DOCUMENT_RELEASE)


def get_upload_for(
    user: User | AnonymousUser, agency: Agency, public_id: uuid.UUID | str
) -> Upload:
    key = _uuid(public_id)
    found = (
        Upload.objects.filter(
            agency=agency, public_id=key, uploaded_by=user, status=UploadStatus.RECEIVING
        )
        .select_related("request")
        .first()
        if key and user.is_authenticated
        else None
    )
    if found is None:
        raise Http404
    return found


def open_findings(document: Document) -> QuerySet[Finding]:
    return Finding.objects.filter(
        agency=document.agency_id, document=document, resolved_at__isnull=True
    ).order_by("page", "pk")


def findings(document: Document) -> QuerySet[Finding]:
    return Finding.objects.filter(agency=document.agency_id, document=document).order_by(
        "resolved_at", "page", "pk"
    )


def get_finding(document: Document, finding_id: int) -> Finding:
    found = findings(document).filter(pk=finding_id).first()
    if found is None:
        raise Http404
    return found


def redactions(document: Document) -> QuerySet[Redaction]:
    return (
        Redaction.objects.filter(agency=document.agency_id, document=document)
        .select_related("reason", "created_by")
        .order_by("page", "pk")
    )


def draft_redactions(document: Document) -> QuerySet[Redaction]:
    return redactions(document).filter(applied_to__isnull=True)


def get_redaction(document: Document, redaction_id: int) -> Redaction:
    found = draft_redactions(document).filter(pk=redaction_id).first()
    if found is None:
        raise Http404
    return found


def redaction_reasons(agency: Agency) -> QuerySet[RedactionReason]:
    return RedactionReason.objects.filter(agency=agency, is_active=True).order_by("label")


def get_redaction_reason(agency: Agency, reason_id: int | str) -> RedactionReason | None:
    return (
        redaction_reasons(agency).filter(pk=reason_id).first() if str(reason_id).isdigit() else None
    )


def versions(document: Document) -> QuerySet[DocumentVersion]:
    return DocumentVersion.objects.filter(agency=document.agency_id, document=document).order_by(
        "number"
    )


def original_version(document: Document) -> DocumentVersion:
    return versions(document).get(kind=VersionKind.ORIGINAL)


def released_version(document: Document) -> DocumentVersion:
    """What leaves the agency: the newest redacted version if there is one, else the
    original (a document with a redacted version never releases its original)."""
    redacted = versions(document).filter(kind=VersionKind.REDACTED).order_by("-number").first()
    return redacted if redacted is not None else original_version(document)


def get_version_for_staff(
    user: User | AnonymousUser, agency: Agency, document: Document, number: int
) -> DocumentVersion:
    get_document_for_staff(user, agency, document.public_id)
    found = versions(document).filter(number=number).first()
    if found is None:
        raise Http404
    return found


# --- Requesters and the public ------------------------------------------------------------------


_RESIDENT_LEVELS = {
    Viewer.REQUESTER: (ReleaseLevel.REQUESTER, ReleaseLevel.PUBLIC),
    Viewer.PUBLIC: (ReleaseLevel.PUBLIC,),
}


def _released_beyond_staff(records_request: RecordsRequest) -> QuerySet[Document]:
    """The request's clean documents released to its requester or to the public: what any
    resident may ever see of it, before the rules of who is reading."""
    return Document.objects.filter(
        agency=records_request.agency_id,
        request=records_request,
        release__in=[ReleaseLevel.REQUESTER, ReleaseLevel.PUBLIC],
        status=DocumentStatus.CLEAN,
    )


def _request_shown(view: PublicView) -> Exists | None:
    """The condition on the request for this reader to see its documents at all: for the
    public, that the request itself is public (inside the documents' own query, no round
    trip of its own); none for the requester."""
    if view.viewer != Viewer.PUBLIC:
        return None
    public = request_access.public_requests(view.request.agency)
    return Exists(public.filter(pk=OuterRef("request_id")))


def resident_documents(view: PublicView) -> QuerySet[Document]:
    documents = _released_beyond_staff(view.request).filter(
        release__in=_RESIDENT_LEVELS[view.viewer]
    )
    request_shown = _request_shown(view)
    if request_shown is not None:
        documents = documents.filter(request_shown)
    return documents.order_by("created_at")


def resident_documents_read(view: PublicView) -> tuple[list[Document], bool]:
    """The request's documents this reader may see (``resident_documents``), and whether any
    is released beyond staff at all (the public page may say so without naming or counting
    them), in one query: every document released beyond staff, each marked by the very
    conditions of ``resident_documents``; the ones the reader may not see are only counted,
    never returned."""
    levels = _RESIDENT_LEVELS[view.viewer]
    request_shown = _request_shown(view)
    released = _released_beyond_staff(view.request).annotate(
        reader_sees=Value(True) if request_shown is None else request_shown
    )
    rows = list(released.order_by("created_at"))
    shown: list[Document] = [d for d in rows if d.release in levels and d.reader_sees]
    return shown, bool(rows)


def get_document_for_resident(view: PublicView, public_id: uuid.UUID | str) -> Document:
    key = _uuid(public_id)
    found = resident_documents(view).filter(public_id=key).first() if key else None
    if found is None:
        raise Http404
    return found


def public_documents(agency: Agency) -> QuerySet[Document]:
    """Released to the public, on requests that are public now (the archive)."""
    return Document.objects.filter(
        agency=agency,
        release=ReleaseLevel.PUBLIC,
        status=DocumentStatus.CLEAN,
        request__in=request_access.public_requests(agency),
    )


def document_names(agency_id: int, document_ids: Iterable[str]) -> dict[str, str]:
    """Document id → its file name, for the agency's audit log."""
    ids = [int(v) for v in document_ids if str(v).isdigit()]
    rows = Document.objects.filter(agency_id=agency_id, pk__in=ids).only("filename")
    return {str(d.pk): d.filename for d in rows}
