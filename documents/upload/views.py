"""Uploading files to a request: the page (a plain file form that works without JavaScript)
and the resumable protocol its script speaks (JSON over fetch).

Staff with DOCUMENT_UPLOAD upload to the requests they can act on; the requester of a
request uploads to it when the agency allows it (signed in, or with the tracking link),
within the requester limit. Everyone else gets 404.

    GET  upload/                          the page
    POST upload/                          the form: every file stored or refused, reported
    POST uploads/                         start: filename, size -> 201 {id, chunk_size, received}
    GET  uploads/<id>/                    {received, size}: where to resume
    PUT  uploads/<id>/chunks/<index>      the chunk's bytes -> {received}
    POST uploads/<id>/complete/           -> {document, redirect}
    POST uploads/<id>/cancel/

The file form's files are encrypted as they arrive (documents.upload.handlers), so the
plaintext never reaches a temporary file. The protocol answers JSON to the script (which
asks for it); a browser that opens one of its URLs itself gets the upload page, or is sent
back to the request, never a bare JSON document.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy, ratelimits
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from documents import access, types
from documents.errors import DocumentError
from documents.upload import services
from documents.upload.forms import StartUploadForm, UploadFilesForm
from documents.upload.handlers import (
    MAX_FILES,
    TOO_MANY,
    EncryptedUploadedFile,
    EncryptingUploadHandler,
    Refused,
)
from requests_portal import access as request_access
from requests_portal.access import Viewer
from requests_portal.models import RecordsRequest
from vault.storage import StorageError

MB = 1024 * 1024
RESULTS_KEY = "document_upload_results"
STORE_DOWN_CHUNK = "The file store is unavailable, your upload will resume."
STORE_DOWN = "The file store is unavailable. Nothing was kept; try again in a few minutes."
STORED = "Stored. It is checked for viruses and personal data before anyone else can see it."


@dataclass(frozen=True)
class Scope:
    """Whose upload page this is: staff, or the request's requester."""

    records_request: RecordsRequest
    by_requester: bool
    actor: object  # the signed-in user, or None for a requester with the tracking link
    tracking: str = ""

    @property
    def number(self) -> str:
        return self.records_request.number

    def _name(self, name: str) -> str:
        return f"resident_{name}" if self.by_requester else f"staff:{name}"

    def _query(self) -> str:
        return f"?t={self.tracking}" if self.tracking else ""

    @property
    def page_url(self) -> str:
        return reverse(self._name("document_upload"), args=[self.number]) + self._query()

    @property
    def api_base(self) -> str:
        """Where the script starts uploads; empty when the resumable protocol is not offered
        (a requester without an account: the form then posts the files itself)."""
        if self.actor is None:
            return ""
        return reverse(self._name("document_upload_start"), args=[self.number])

    @property
    def back_url(self) -> str:
        if self.by_requester:
            return reverse("request_detail", args=[self.number]) + self._query()
        return reverse("staff:request_detail", args=[self.number])

    def document_url(self, document) -> str:
        """Where a stored file can be seen: its staff page; requesters see their request
        (their own upload is not released to them by uploading it)."""
        if self.by_requester:
            return ""
        try:
            return reverse(
                "staff:document_detail",
                kwargs={"number": self.number, "document_id": document.public_id},
            )
        except NoReverseMatch:
            return self.back_url

    def limit(self) -> int:
        return services.upload_limit(self.records_request.agency_id, by_requester=self.by_requester)


def _staff_scope(request, number: str) -> Scope:
    records_request = request_access.get_request_for_staff(request.user, request.agency, number)
    if not request_access.can_act_on(
        request.user, request.agency, records_request, policy.DOCUMENT_UPLOAD
    ):
        raise PermissionDenied
    return Scope(records_request, by_requester=False, actor=request.user)


def _resident_scope(request, number: str) -> Scope:
    agency = getattr(request, "agency", None)
    if agency is None:
        raise Http404
    tracking = request.GET.get("t", "")
    view = request_access.get_request_for_resident(request.user, agency, number, tracking)
    if view.viewer != Viewer.REQUESTER or not access.settings_for(agency).requester_uploads:
        raise Http404
    actor = request.user if request.user.is_authenticated else None
    return Scope(view.request, by_requester=True, actor=actor, tracking=view.tracking)


def _resident_api_scope(request, number: str) -> Scope:
    """The resumable protocol binds an upload to its uploader's account
    (access.get_upload_for); a requester with only the tracking link uses the form."""
    scope = _resident_scope(request, number)
    if scope.actor is None:
        raise Http404
    return scope


def _upload(request, scope: Scope, upload_id):
    upload = access.get_upload_for(request.user, request.agency, upload_id)
    if upload.request_id != scope.records_request.pk or upload.by_requester != scope.by_requester:
        raise Http404
    return upload


def _wants_json(request) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


# --- The page --------------------------------------------------------------------------------


def _render_page(request, scope: Scope, *, form=None, errors=(), results=None, status=200):
    limit = scope.limit()
    return render(
        request,
        "documents/upload.html",
        {
            "r": scope.records_request,
            "scope": scope,
            "staff": not scope.by_requester,
            "form": form or UploadFilesForm(limit_mb=limit // MB),
            "errors": list(errors),
            "results": results,
            "limit_mb": limit // MB,
            "accepted": types.allowed_labels(),
            "page_url": scope.page_url,
            "api_base": scope.api_base,
            "back_url": scope.back_url,
        },
        status=status,
    )


def _install_encrypting_handler(request, scope: Scope) -> None:
    """Before anything reads the body: the files are encrypted as they arrive."""
    request.upload_handlers = [EncryptingUploadHandler(request, limit=scope.limit())]


def _oversize(request, scope: Scope, refused: Refused) -> dict:
    """A file the handler dropped for its size: refused by the same service check as a
    resumable upload (the same message, the same audit event); nothing was stored."""
    try:
        upload = services.upload_start(
            records_request=scope.records_request,
            filename=refused.name,
            size=refused.received,
            actor=scope.actor,
            by_requester=scope.by_requester,
            http_request=request,
        )
    except DocumentError as error:
        return {"name": refused.name[:255], "stored": False, "message": str(error)}
    except StorageError:
        return {"name": refused.name[:255], "stored": False, "message": STORE_DOWN}
    # The agency's limit rose while the file was arriving; what arrived is gone anyway.
    services.upload_abandon(upload=upload)
    return {"name": refused.name[:255], "stored": False, "message": "Upload this file again."}


def _store(request, scope: Scope, uploaded: EncryptedUploadedFile) -> dict:
    name = uploaded.name[:255]
    try:
        document = services.upload_whole(
            records_request=scope.records_request,
            filename=uploaded.name,
            size=uploaded.size,
            chunks=uploaded.chunks(),
            actor=scope.actor,
            by_requester=scope.by_requester,
            http_request=request,
        )
    except DocumentError as error:
        return {"name": name, "stored": False, "message": str(error)}
    except StorageError:
        return {"name": name, "stored": False, "message": STORE_DOWN}
    finally:
        uploaded.close()
    return {
        "name": document.filename,
        "stored": True,
        "message": STORED,
        "url": scope.document_url(document),
    }


def _page_again(request, scope: Scope) -> str:
    """Where the same form sent twice goes: the page, computed again from this post (a
    guest's address carries the tracking link, which the form's claim must not keep)."""
    return scope.page_url


@csrf_protect
@once_per_form(replay_to=_page_again)
def _page(request, scope: Scope):
    if request.method != "POST":
        saved = request.session.pop(RESULTS_KEY, None)
        results = saved["results"] if saved and saved.get("number") == scope.number else None
        return _render_page(request, scope, results=results)
    limit_mb = scope.limit() // MB
    form = UploadFilesForm(request.POST, request.FILES, limit_mb=limit_mb)
    handler = next(h for h in request.upload_handlers if isinstance(h, EncryptingUploadHandler))
    if form.is_valid() and not handler.outcomes:
        form.add_error("files", "Choose one or more files to upload.")
    if not form.is_valid():
        for uploaded in handler.files:
            uploaded.close()
        return _render_page(request, scope, form=form, status=400)
    results = []
    for position, outcome in enumerate(handler.outcomes):
        name = outcome.name[:255]
        if isinstance(outcome, Refused) and outcome.reason == TOO_MANY:
            message = f"Not stored: send at most {MAX_FILES} files at a time."
            results.append({"name": name, "stored": False, "message": message})
        elif position and uploads_exceeded(request):
            # The post counted as one upload before it was read; each further file counts
            # too, as each resumable upload does.
            if not isinstance(outcome, Refused):
                outcome.close()
            results.append({"name": name, "stored": False, "message": TOO_MANY_UPLOADS})
        elif isinstance(outcome, Refused):
            results.append(_oversize(request, scope, outcome))
        else:
            results.append(_store(request, scope, outcome))
    # Post/redirect/get: a reload does not send the files again.
    request.session[RESULTS_KEY] = {"number": scope.number, "results": results}
    return redirect(scope.page_url)


# Why csrf_exempt: the CSRF middleware reads request.POST, which parses the body with
# Django's plaintext handlers before the view could install the encrypting one. Exempting
# the view only moves the check: _page is @csrf_protect and runs it before any file reaches
# a service, so a forged post stores nothing (the sealed spool dies with the request).
# Tested by test_the_form_and_the_protocol_check_the_csrf_token and
# test_the_requesters_form_checks_the_csrf_token_before_storing_anything.
@require_http_methods(["GET", "HEAD", "POST"])
# nosemgrep: portal-csrf-exempt -- _page checks the token before storing (see above)
@csrf_exempt
@agency_permission(policy.DOCUMENT_UPLOAD)
def staff_upload(request, number: str):
    return _upload_page(request, _staff_scope(request, number))


@require_http_methods(["GET", "HEAD", "POST"])
# nosemgrep: portal-csrf-exempt -- checked by _page, as for staff_upload above
@csrf_exempt
def resident_upload(request, number: str):
    return _upload_page(request, _resident_scope(request, number))


def _upload_page(request, scope):
    """The form page; a post is counted against the upload limits before its files are read,
    then read through the encrypting handler."""
    if request.method == "POST":
        if uploads_exceeded(request):
            return _render_page(request, scope, errors=[TOO_MANY_UPLOADS], status=429)
        _install_encrypting_handler(request, scope)
    return _page(request, scope)


# --- The resumable protocol ----------------------------------------------------------------


def _refusal(request, scope: Scope, message: str, status: int):
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return _render_page(request, scope, errors=[message], status=status)


def _status(upload) -> dict:
    return {
        "id": str(upload.public_id),
        "received": upload.received,
        "size": upload.size,
        "chunk_size": upload.chunk_size,
    }


def _read_body(request, limit: int) -> bytes | None:
    """At most ``limit`` bytes of the body (None when it is longer), read from the stream:
    request.body would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE for every view."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def uploads_exceeded(request) -> bool:
    """Uploads per person (or per address, for a requester with only the tracking link),
    counting each resumable start and each posted form: each opens storage and, later, a
    scan. Checked before the body is read, so a refused form stores and spools nothing."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return ratelimits.limited(
            request,
            group="document_upload",
            rate=settings.RATE_LIMIT_UPLOAD_PER_USER,
            key=lambda group, req: f"user:{req.user.pk}",
        )
    return ratelimits.limited(
        request, group="document_upload_ip", rate=settings.RATE_LIMIT_UPLOAD_PER_IP
    )


TOO_MANY_UPLOADS = "Too many uploads started: wait a while and try again."


def _start(request, scope: Scope):
    if uploads_exceeded(request):
        return _refusal(request, scope, TOO_MANY_UPLOADS, 429)
    form = StartUploadForm(request.POST)
    if not form.is_valid():
        return _refusal(request, scope, form.first_error(), 400)
    try:
        upload = services.upload_start(
            records_request=scope.records_request,
            filename=form.cleaned_data["filename"],
            size=form.cleaned_data["size"],
            actor=scope.actor,
            by_requester=scope.by_requester,
            http_request=request,
        )
    except DocumentError as error:
        return _refusal(request, scope, str(error), 400)
    except StorageError:
        return _refusal(request, scope, STORE_DOWN, 503)
    return JsonResponse(_status(upload), status=201)


def _upload_status(request, scope: Scope, upload_id):
    upload = _upload(request, scope, upload_id)
    if not _wants_json(request):
        return _render_page(request, scope)
    return JsonResponse(_status(upload))


def _chunk(request, scope: Scope, upload_id, index: int):
    upload = _upload(request, scope, upload_id)
    if request.method != "PUT":
        if not _wants_json(request):
            return _render_page(request, scope)
        stored = index * upload.chunk_size < upload.received
        return JsonResponse({**_status(upload), "index": index, "stored": stored})
    data = _read_body(request, upload.chunk_size)
    if data is None:
        return JsonResponse(
            {"error": f"Send the file in parts of at most {upload.chunk_size} bytes."},
            status=413,
        )
    try:
        upload = services.upload_chunk(upload=upload, index=index, data=data, http_request=request)
    except DocumentError as error:
        return JsonResponse({"error": str(error)}, status=400)
    except StorageError:
        return JsonResponse({"error": STORE_DOWN_CHUNK}, status=503)
    return JsonResponse({"received": upload.received, "size": upload.size})


def _complete(request, scope: Scope, upload_id):
    upload = _upload(request, scope, upload_id)
    try:
        document = services.upload_complete(upload=upload, actor=scope.actor, http_request=request)
    except DocumentError as error:
        return _refusal(request, scope, str(error), 400)
    except StorageError:
        return _refusal(
            request, scope, "The file store is unavailable. Try again in a few minutes.", 503
        )
    if not _wants_json(request):
        messages.success(request, f"{document.filename}: {STORED}")
        return redirect(scope.back_url)
    return JsonResponse(
        {
            "document": str(document.public_id),
            "filename": document.filename,
            "url": scope.document_url(document),
            "redirect": scope.back_url,
        }
    )


def _cancel(request, scope: Scope, upload_id):
    upload = _upload(request, scope, upload_id)
    services.upload_abandon(upload=upload)
    if not _wants_json(request):
        messages.success(request, f"The upload of {upload.filename} was cancelled.")
        return redirect(scope.back_url)
    return JsonResponse({"cancelled": True})


# Staff: DOCUMENT_UPLOAD, on a request the user can act on.


@require_POST
@agency_permission(policy.DOCUMENT_UPLOAD)
def staff_upload_start(request, number: str):
    return _start(request, _staff_scope(request, number))


@require_http_methods(["GET", "HEAD"])
@agency_permission(policy.DOCUMENT_UPLOAD)
def staff_upload_status(request, number: str, upload_id):
    return _upload_status(request, _staff_scope(request, number), upload_id)


@require_http_methods(["GET", "HEAD", "PUT"])
@agency_permission(policy.DOCUMENT_UPLOAD)
def staff_upload_chunk(request, number: str, upload_id, index: int):
    return _chunk(request, _staff_scope(request, number), upload_id, index)


@require_POST
@agency_permission(policy.DOCUMENT_UPLOAD)
def staff_upload_complete(request, number: str, upload_id):
    return _complete(request, _staff_scope(request, number), upload_id)


@require_POST
@agency_permission(policy.DOCUMENT_UPLOAD)
def staff_upload_cancel(request, number: str, upload_id):
    return _cancel(request, _staff_scope(request, number), upload_id)


# Requesters: signed in, on their own request, when the agency allows requester uploads.


@require_POST
def resident_upload_start(request, number: str):
    return _start(request, _resident_api_scope(request, number))


@require_http_methods(["GET", "HEAD"])
def resident_upload_status(request, number: str, upload_id):
    return _upload_status(request, _resident_api_scope(request, number), upload_id)


@require_http_methods(["GET", "HEAD", "PUT"])
def resident_upload_chunk(request, number: str, upload_id, index: int):
    return _chunk(request, _resident_api_scope(request, number), upload_id, index)


@require_POST
def resident_upload_complete(request, number: str, upload_id):
    return _complete(request, _resident_api_scope(request, number), upload_id)


@require_POST
def resident_upload_cancel(request, number: str, upload_id):
    return _cancel(request, _resident_api_scope(request, number), upload_id)
