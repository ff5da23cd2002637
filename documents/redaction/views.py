"""The redaction page: page previews, draft boxes (drawn, searched, by pattern), each with a
reason; finalising makes the redacted version. Works without JavaScript (boxes are typed as
percentages of the page); static/js/redact.js lets people draw them on the preview."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import policy, ratelimits
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from documents import access
from documents.errors import DocumentError, RedactionRefused
from documents.models import Document, DocumentStatus, VersionKind
from documents.redaction import services, working
from documents.redaction.boxes import RedactionError
from documents.redaction.forms import BoxForm, PatternForm, SearchForm


def _document(request, number: str, document_id):
    """Only scanned, clean files are opened here: quarantined or blocked ones are never
    parsed by the web process."""
    records_request, document = access.get_request_document_for_staff(
        request.user, request.agency, number, document_id
    )
    if document.status != DocumentStatus.CLEAN:
        raise Http404
    return records_request, document


def _redact_url(document) -> str:
    return reverse(
        "staff:document_redact",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )


def _forms(agency, data=None, which: str = ""):
    reasons = access.redaction_reasons(agency)
    return {
        "box": BoxForm(data if which == "box" else None, reasons=reasons),
        "search": SearchForm(data if which == "search" else None, reasons=reasons),
        "pattern": PatternForm(data if which == "pattern" else None, reasons=reasons),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.DOCUMENT_REDACT)
@once_per_form
def redact(request, number: str, document_id):
    records_request, document = _document(request, number, document_id)
    kind = working.kind_of(document)
    which = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _forms(request.agency, request.POST, which)
    status = 200
    unsupported = ""
    preparing = False
    if kind == "unsupported":
        unsupported = working.unsupported_reason(document)
    else:
        try:
            preparing = not working.conversion_ready(document)
        except RedactionRefused as error:
            unsupported = str(error)
    if request.method == "POST" and (unsupported or preparing):
        status = 400  # the page's notice says why nothing was added
    elif request.method == "POST":
        form = forms.get(which)
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                if which == "box":
                    services.redaction_add_box(
                        document=document,
                        actor=request.user,
                        reason=data["reason"],
                        page=data["page"],
                        left=data["left"],
                        top=data["top"],
                        width=data["width"],
                        height=data["height"],
                        http_request=request,
                    )
                    messages.success(request, gettext("Box added as a draft."))
                elif which == "search":
                    count = services.redaction_add_search(
                        document=document,
                        actor=request.user,
                        reason=data["reason"],
                        term=data["term"],
                        http_request=request,
                    )
                    messages.success(
                        request,
                        gettext("%(n)s draft box(es) added for “%(term)s”.")
                        % {"n": count, "term": data["term"]},
                    )
                else:
                    count = services.redaction_add_patterns(
                        document=document,
                        actor=request.user,
                        reason=data["reason"],
                        kinds=data["kinds"],
                        http_request=request,
                    )
                    messages.success(
                        request,
                        gettext("%(n)s draft box(es) added.") % {"n": count},
                    )
                return HttpResponseRedirect(_redact_url(document))
            except RedactionRefused as error:
                form.add_error(None, str(error))
        status = 400
    pages = []
    if not (unsupported or preparing):
        try:
            sizes = working.page_info(document)
        except DocumentError as error:
            sizes, unsupported = [], str(error)
        pages = [{"number": n, "width": w, "height": h} for n, (w, h) in enumerate(sizes, start=1)]
    return render(
        request,
        "documents/redact.html",
        {
            "r": records_request,
            "document": document,
            "kind": kind,
            "unsupported": unsupported,
            "preparing": preparing,
            "pages": pages,
            "drafts": access.draft_redactions(document),
            "running": document.redaction_running,
            "applied": _applied(request, document),
            "progress": services.progress(document) if document.redaction_running else None,
            "forms": forms,
            "has_reasons": access.redaction_reasons(request.agency).exists(),
        },
        status=status,
    )


@require_safe
@agency_permission(policy.DOCUMENT_REDACT)
def page_image(request, number: str, document_id, page: int):
    """A preview of one page of the ORIGINAL (staff who redact only; never cached)."""
    _records_request, document = _document(request, number, document_id)
    if ratelimits.limited(
        request,
        group="document_preview",
        key=lambda group, req: f"user:{req.user.pk}",
        rate="600/10m",
    ):
        return HttpResponse("Too many previews: wait a few minutes.", status=429)
    if working.kind_of(document) == "unsupported":
        return HttpResponse(status=404)
    try:
        if not working.conversion_ready(document):
            return HttpResponse(status=404)  # the page shows "Preparing" until it is
        png = working.preview_png(document, page)
    except (
        DocumentError,
        RedactionError,
        ValueError,
        IndexError,
    ):
        return HttpResponse(status=404)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


def _applied(request: HttpRequest, document: Document) -> bool:
    """The clerk came back from applying redactions, the work is over and it made a redacted
    version (the query flag alone, typed by hand, shows nothing)."""
    if request.GET.get("applied") != "1" or document.redaction_running:
        return False
    if document.redaction_message:
        return False
    return access.versions(document).filter(kind=VersionKind.REDACTED).exists()


@require_POST
@agency_permission(policy.DOCUMENT_REDACT)
def remove(request, number: str, document_id, redaction_id: int):
    _records_request, document = _document(request, number, document_id)
    row = access.get_redaction(document, redaction_id)
    services.redaction_remove(redaction_row=row, actor=request.user, http_request=request)
    messages.success(request, gettext("Draft box removed."))
    return HttpResponseRedirect(_redact_url(document))


@require_POST
@agency_permission(policy.DOCUMENT_REDACT)
@once_per_form
def finalise(request, number: str, document_id):
    _records_request, document = _document(request, number, document_id)
    try:
        services.redaction_request(document=document, actor=request.user, http_request=request)
    except RedactionRefused as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_redact_url(document))
    # No flash message: "being applied" would still show after the work had finished. The
    # page says how far it is while it runs and, with ?applied, that it is done.
    return HttpResponseRedirect(_redact_url(document) + "?applied=1")
