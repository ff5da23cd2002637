"""Document pages: the staff list and detail of a request's documents (release, findings,
versions), download links for staff, requesters and the public, and the download itself.

Every download goes through a link that expires in minutes and is bound to who asked
(documents.links.link_issue); the download view checks the link and the permission
again, records the download, and streams the plaintext as an attachment.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST, require_safe

import audit
from accounts import policy
from accounts.decorators import agency_permission
from documents import access, audit_events, keys, links, release, versions
from documents.errors import DocumentError
from documents.forms import BulkReleaseForm, ReleaseForm, ResolveFindingForm
from documents.models import DocumentStatus, DownloadGrant, ReleaseLevel
from requests_portal import access as request_access
from requests_portal.access import Viewer
from vault import crypto

logger = logging.getLogger(__name__)
# Staff may fetch files the scan passed, or could not read (to see what is wrong with them);
# never quarantined or blocked ones.
STAFF_DOWNLOADABLE = (DocumentStatus.CLEAN, DocumentStatus.FAILED)


def _request(request, number: str):
    return request_access.get_request_for_staff(request.user, request.agency, number)


def _document(request, number: str, document_id) -> tuple:
    return access.get_request_document_for_staff(request.user, request.agency, number, document_id)


def _detail_url(document) -> str:
    return reverse(
        "staff:document_detail",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )


# --- Staff -------------------------------------------------------------------------------------


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_documents(request, number: str):
    records_request = _request(request, number)
    documents = access.staff_documents(request.user, request.agency, records_request)
    can_release = request_access.can_act_on(
        request.user, request.agency, records_request, policy.DOCUMENT_RELEASE
    )
    return render(
        request,
        "documents/staff_documents.html",
        {
            "r": records_request,
            "documents": documents,
            "can_release": can_release,
            "bulk_form": BulkReleaseForm(documents=documents) if can_release else None,
            "can_upload": policy.can(request.user, request.agency, policy.DOCUMENT_UPLOAD),
        },
    )


def _render_detail(request, records_request, document, *, release_form=None, status=200):
    can_release = access.can_release(request.user, request.agency, document)
    return render(
        request,
        "documents/staff_document.html",
        {
            "r": records_request,
            "document": document,
            "versions": access.versions(document),
            "released_version": access.released_version(document),
            "findings": access.findings(document),
            "open_findings": access.open_findings(document).count(),
            "redactions": access.redactions(document),
            "can_release": can_release,
            "can_redact": policy.can(request.user, request.agency, policy.DOCUMENT_REDACT),
            "release_form": release_form
            or (ReleaseForm(initial={"level": document.release}) if can_release else None),
            "resolve_form": ResolveFindingForm(),
        },
        status=status,
    )


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_document(request, number: str, document_id):
    records_request, document = _document(request, number, document_id)
    return _render_detail(request, records_request, document)


@require_POST
@agency_permission(policy.DOCUMENT_RELEASE)
def staff_document_release(request, number: str, document_id):
    records_request, document = _document(request, number, document_id)
    if not access.can_release(request.user, request.agency, document):
        raise PermissionDenied
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, records_request, document, release_form=form, status=400)
    try:
        release.document_release(
            document=document,
            level=form.cleaned_data["level"],
            actor=request.user,
            override_reason=form.cleaned_data["override_reason"],
            http_request=request,
        )
    except DocumentError as error:
        form.add_error(None, str(error))
        return _render_detail(request, records_request, document, release_form=form, status=400)
    messages.success(
        request,
        gettext("%(filename)s: saved who may see it.") % {"filename": document.filename},
    )
    return HttpResponseRedirect(_detail_url(document))


@require_POST
@agency_permission(policy.DOCUMENT_RELEASE)
def staff_documents_release(request, number: str):
    """Release several documents of a request at once; each one is checked on its own
    (scanned, findings, the request's visibility) and reported."""
    records_request = _request(request, number)
    if not request_access.can_act_on(
        request.user, request.agency, records_request, policy.DOCUMENT_RELEASE
    ):
        raise PermissionDenied
    documents = access.staff_documents(request.user, request.agency, records_request)
    form = BulkReleaseForm(request.POST, documents=documents)
    if not form.is_valid():
        messages.error(request, gettext("Choose the documents and who may see them."))
        return HttpResponseRedirect(reverse("staff:request_documents", args=[number]))
    done, refused = 0, []
    for document in form.cleaned_data["documents"]:
        try:
            release.document_release(
                document=document,
                level=form.cleaned_data["level"],
                actor=request.user,
                http_request=request,
            )
            done += 1
        except DocumentError as error:
            refused.append(f"{document.filename}: {error}")
    if done:
        messages.success(
            request,
            gettext("Saved who may see %(n)s document(s).") % {"n": done},
        )
    for line in refused:
        messages.error(request, line)
    return HttpResponseRedirect(reverse("staff:request_documents", args=[number]))


@require_POST
@agency_permission(policy.DOCUMENT_REDACT)
def staff_finding_resolve(request, number: str, document_id, finding_id: int):
    _records_request, document = _document(request, number, document_id)
    finding = access.get_finding(document, finding_id)
    form = ResolveFindingForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Say why this finding needs no redaction."))
        return HttpResponseRedirect(_detail_url(document))
    release.finding_resolve(
        finding=finding,
        actor=request.user,
        resolution=f"dismissed: {form.cleaned_data['reason']}",
        http_request=request,
    )
    messages.success(request, gettext("The finding is resolved."))
    return HttpResponseRedirect(_detail_url(document))


@require_POST
@agency_permission(policy.STAFF_AREA)
def staff_document_link(request, number: str, document_id, version: int):
    """Staff download any version of a document of a request they can see (the original
    included: originals stay staff-only)."""
    _records_request, document = _document(request, number, document_id)
    if document.status not in STAFF_DOWNLOADABLE:
        messages.error(
            request,
            gettext(
                "This file can't be downloaded: it is still being scanned, or the scan blocked it."
            ),
        )
        return HttpResponseRedirect(_detail_url(document))
    chosen = access.get_version_for_staff(request.user, request.agency, document, version)
    link = links.link_issue(
        version=chosen,
        audience=DownloadGrant.Audience.STAFF,
        user=request.user,
        http_request=request,
    )
    return HttpResponseRedirect(reverse("document_download", args=[link.token]), status=303)


# --- Requesters and the public ------------------------------------------------------------------


@require_POST
def resident_document_link(request, number: str, document_id):
    """A download link for the requester (signed in, or with the tracking link) or a member
    of the public: bound to the user, or to this browser's session when signed out."""
    if getattr(request, "agency", None) is None:
        raise Http404
    view = request_access.get_request_for_resident(
        request.user, request.agency, number, request.POST.get("t", "")
    )
    document = access.get_document_for_resident(view, document_id)
    if not request.user.is_authenticated and not request.session.session_key:
        request.session.save()
    link = links.link_issue(
        version=access.released_version(document),
        audience=(
            DownloadGrant.Audience.REQUESTER
            if view.viewer == Viewer.REQUESTER
            else DownloadGrant.Audience.PUBLIC
        ),
        user=request.user if request.user.is_authenticated else None,
        session_key=request.session.session_key or "",
        http_request=request,
    )
    return HttpResponseRedirect(reverse("document_download", args=[link.token]), status=303)


# --- The download ---------------------------------------------------------------------------


def _refuse(request, reason: str, *, status: int = 403):
    audit.record(
        audit_events.DOWNLOAD_REFUSED.code,
        http_request=request,
        details={"reason": reason},
    )
    return render(request, "documents/link_refused.html", {"reason": reason}, status=status)


def _still_allowed(request, grant: DownloadGrant) -> bool:
    """The permission behind the link, checked again at download time."""
    document = grant.version.document
    audience = grant.audience
    if audience == DownloadGrant.Audience.STAFF:
        try:
            access.get_document_for_staff(request.user, request.agency, document.public_id)
        except Http404:
            return False
        return document.status in STAFF_DOWNLOADABLE
    if grant.version.pk != access.released_version(document).pk:
        return False
    if document.status != "clean":
        return False
    if audience == DownloadGrant.Audience.REQUESTER:
        return document.release in (ReleaseLevel.REQUESTER, ReleaseLevel.PUBLIC)
    return access.public_documents(request.agency).filter(pk=document.pk).exists()


@require_GET  # not HEAD: every request that opens the file is a recorded download
def download(request, token: str):
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    try:
        grant = links.link_check(
            token=token,
            agency_id=agency.pk,
            user=request.user,
            session_key=request.session.session_key or "",
        )
    except links.LinkRefused as refusal:
        status = 410 if refusal.reason == "expired" else 403
        return _refuse(request, refusal.reason, status=status)
    if not _still_allowed(request, grant):
        return _refuse(request, "no longer allowed")
    version = grant.version
    document = version.document
    try:
        body = versions.version_read(version)
    except keys.KeyUnavailable:
        return _refuse(request, "keys destroyed", status=410)
    audit_events.record_about(
        audit_events.DOWNLOADED,
        document,
        http_request=request,
        version=version.number,
        audience=grant.audience,
        bytes=version.size,
    )
    links.link_used(grant)
    content_type = version.content_type or document.content_type
    if document.status != DocumentStatus.CLEAN:
        content_type = "application/octet-stream"  # never rendered, whatever it claims
    filename = document.filename
    if version.content_type == "application/pdf" and not filename.lower().endswith(".pdf"):
        filename = filename.rsplit(".", 1)[0] + "-redacted.pdf"
    response = StreamingHttpResponse(_guarded(body), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(version.size)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _guarded(body):
    """A segment that fails authentication ends the download with an error (the browser
    shows it failed); no unauthenticated byte is ever sent."""
    try:
        yield from body
    except crypto.DecryptionError:
        logger.error("A stored document failed decryption mid-download.")
        raise
