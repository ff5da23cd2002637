"""Redaction as the agency works it: draft boxes (drawn, found by a search term, or found by
the personal-data patterns), each with the agency's reason label, then one finalising step
that burns them into a new redacted version. Drafts and the log are ``Redaction`` rows; each
step writes its audit event in the same transaction.

The engine (documents.redaction.engine) rasterises every page, so nothing under a box
survives: no text, no image, no metadata; an OCR layer is restored from the burned pages
only. What the boxes are drawn on is documents.redaction.working's.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.tenancy import lock_tenant_row
from documents import access, audit_events, jobs, release
from documents.errors import DocumentError, RedactionRefused
from documents.models import Document, DocumentVersion, Redaction, RedactionReason, VersionKind
from documents.redaction import engine, images, page_search, working
from documents.redaction import soft_cache as cache
from documents.redaction.boxes import Box, RedactionError
from documents.scan.extract.base import Unreadable
from documents.scan.extract.extraction import Extraction
from documents.versions import version_create
from requests_portal import pii

PATTERN_LABELS = {
    "ssn": "US Social Security numbers",
    "card": "Payment card numbers",
    "email": "Email addresses",
    "phone": "Phone numbers",
    "birth_date": "Dates of birth",
}


def _record_added(
    document: Document,
    actor: User,
    boxes: list[Redaction],
    how: str,
    http_request: HttpRequest | None,
) -> None:
    audit_events.record_about(
        audit_events.REDACTION_ADDED,
        document,
        actor=actor,
        http_request=http_request,
        count=len(boxes),
        how=how,
    )


def redaction_add_box(
    *,
    document: Document,
    actor: User,
    reason: RedactionReason,
    page: int,
    left: float,
    top: float,
    width: float,
    height: float,
    http_request: HttpRequest | None = None,
) -> Redaction:
    """A drawn box, given in percent of the page (what a person or the drawing script sees);
    stored in points from the page's top-left corner."""
    sizes = working.page_info(document)
    if not 1 <= page <= len(sizes):
        raise RedactionRefused(f"Choose a page from 1 to {len(sizes)}.")
    page_width, page_height = sizes[page - 1]
    left, top = max(0.0, min(left, 100.0)), max(0.0, min(top, 100.0))
    right, bottom = min(100.0, left + max(width, 0.0)), min(100.0, top + max(height, 0.0))
    if right - left < 0.1 or bottom - top < 0.1:
        raise RedactionRefused("The box is too small to see.")
    with transaction.atomic():
        row = Redaction.objects.create(
            agency_id=document.agency_id,
            document=document,
            page=page,
            x0=page_width * left / 100,
            y0=page_height * top / 100,
            x1=page_width * right / 100,
            y1=page_height * bottom / 100,
            reason=reason,
            source=Redaction.Source.BOX,
            created_by=actor,
        )
        _record_added(document, actor, [row], "box", http_request)
    return row


def _create_boxes(
    document: Document,
    actor: User,
    reason: RedactionReason,
    boxes: Iterable[Box],
    source: str,
    note: str,
) -> list[Redaction]:
    rows = [
        Redaction(
            agency_id=document.agency_id,
            document=document,
            page=box.page,
            x0=box.x0,
            y0=box.y0,
            x1=box.x1,
            y1=box.y1,
            reason=reason,
            source=source,
            note=note[:200],
            created_by=actor,
        )
        for box in boxes
    ]
    return Redaction.objects.bulk_create(rows)


def redaction_add_search(
    *,
    document: Document,
    actor: User,
    reason: RedactionReason,
    term: str,
    http_request: HttpRequest | None = None,
) -> int:
    """ "Redact all": a box over every occurrence of the term on every page."""
    term = term.strip()
    if len(term) < 2:
        raise RedactionRefused("Type at least two characters to search for.")
    if not working.is_pdf_like(document):
        raise RedactionRefused("Searching works in documents with text. Draw boxes on images.")
    boxes = page_search.find_text_boxes(working.working_bytes(document), term)
    if not boxes:
        raise RedactionRefused(f"“{term}” does not appear in the text of this document.")
    with transaction.atomic():
        # The log says what kind of search it was, not the (often sensitive) term itself.
        shown = f"{term[0]}… ({len(term)} characters)"
        rows = _create_boxes(document, actor, reason, boxes, Redaction.Source.SEARCH, shown)
        _record_added(document, actor, rows, "search", http_request)
    return len(rows)


def redaction_add_patterns(
    *,
    document: Document,
    actor: User,
    reason: RedactionReason,
    kinds: list[str],
    http_request: HttpRequest | None = None,
) -> int:
    """Boxes over every match of the chosen personal-data patterns."""
    if not working.is_pdf_like(document):
        raise RedactionRefused("Pattern search works in documents with text. Draw boxes on images.")
    wanted = set(kinds) & set(PATTERN_LABELS)
    if not wanted:
        raise RedactionRefused("Choose at least one kind of personal data.")

    def find(text: str) -> list[tuple[int, int, str]]:
        return [(m.start, m.end, m.kind) for m in pii.find(text, kinds=tuple(sorted(wanted)))]

    found = page_search.find_pattern_boxes(working.working_bytes(document), find)
    if not found:
        raise RedactionRefused("None of the chosen kinds of personal data appear in the text.")
    with transaction.atomic():
        rows = _create_boxes(
            document,
            actor,
            reason,
            [box for box, _kind in found],
            Redaction.Source.PATTERN,
            ", ".join(sorted(wanted)),
        )
        _record_added(document, actor, rows, "pattern", http_request)
    return len(rows)


def redaction_remove(
    *, redaction_row: Redaction, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        document = redaction_row.document
        deleted, _ = Redaction.objects.filter(
            agency=document.agency_id, pk=redaction_row.pk, applied_to__isnull=True
        ).delete()
        if deleted:
            audit_events.record_about(
                audit_events.REDACTION_REMOVED,
                document,
                actor=actor,
                http_request=http_request,
                page=redaction_row.page,
            )


def progress_key(document: Document) -> str:
    return f"documents:redaction-progress:{document.pk}"


def progress(document: Document) -> dict[str, int] | None:
    """How far the redactions being applied are: pages done and in all, or None."""
    found: dict[str, int] | None = cache.get(progress_key(document))
    return found


def redaction_request(
    *, document: Document, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Queue the redactions to be applied (OCR takes seconds a page: a background task)."""
    with transaction.atomic():
        locked = lock_tenant_row(document)
        if locked.redaction_running:
            raise RedactionRefused("The redactions are already being applied.")
        if not access.draft_redactions(locked).exists():
            raise RedactionRefused("There are no draft redactions to apply.")
        locked.redaction_running = True
        locked.redaction_message = ""
        locked.save(update_fields=["redaction_running", "redaction_message"])
        jobs.apply_redactions(document, actor_id=actor.pk)


def redaction_run(agency_id: int, document_id: int, actor_id: int | None) -> None:
    """The background part: apply, then clear the running flag (or say why it failed).
    Does nothing when the document is gone or not the task's agency's."""
    document = (
        Document.objects.select_related("request").filter(agency=agency_id, pk=document_id).first()
    )
    if document is None:
        return
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    message = ""
    try:
        with transaction.atomic():
            redaction_finalise(document=document, actor=actor)
    except (RedactionRefused, DocumentError) as error:
        message = str(error)
    finally:
        cache.delete(progress_key(document))
        Document.objects.filter(agency=document.agency_id, pk=document.pk).update(
            redaction_running=False, redaction_message=message[:300]
        )


def redaction_finalise(
    *, document: Document, actor: User | None, http_request: HttpRequest | None = None
) -> DocumentVersion:
    """Burn every draft box into a new redacted version (from the original, so earlier
    redactions are applied again with the new ones), mark the drafts applied, and resolve
    the findings whose values are gone from the new version's text."""
    drafts = list(access.draft_redactions(document))
    if not drafts:
        raise RedactionRefused("There are no draft redactions to apply.")
    applied = list(access.redactions(document).filter(applied_to__isnull=False))
    boxes = [Box(r.page, r.x0, r.y0, r.x1, r.y1) for r in [*applied, *drafts]]
    data = working.working_bytes(document)

    def on_page(done: int, total: int) -> None:
        cache.set(progress_key(document), {"done": done, "total": total}, timeout=3600)

    ocr_report: dict[str, object] = {}
    try:
        if working.is_pdf_like(document):
            result = engine.redact(data, boxes, on_page=on_page)
            output, content_type = result.pdf, "application/pdf"
            ocr_report = {
                "pages": result.pages,
                "ocr_pages": len(result.ocr_pages),
                "ocr_failed": result.ocr_failed[:50],
                "ocr_unavailable": result.ocr_unavailable,
            }
        else:
            output = images.redact_image(data, boxes, mime=document.content_type)
            content_type = document.content_type
    except RedactionError as error:
        raise RedactionRefused(str(error)) from None
    with transaction.atomic():
        version = version_create(
            document=document,
            kind=VersionKind.REDACTED,
            chunks=[output],
            actor=actor,
            content_type=content_type,
        )
        Redaction.objects.filter(agency=document.agency_id, pk__in=[r.pk for r in drafts]).update(
            applied_to=version
        )
        audit_events.record_about(
            audit_events.REDACTED,
            document,
            actor=actor,
            http_request=http_request,
            count=len(drafts),
            version=version.number,
            reasons=sorted({r.reason.label for r in drafts}),
            **ocr_report,
        )
        _resolve_redacted_findings(document, output, content_type, version, actor, http_request)
        # What the public can read and search must follow the new version at once: drop
        # the old text now, re-index from the redacted version once this commits.
        Document.objects.filter(agency=document.agency_id, pk=document.pk).update(released_text="")
        jobs.index_document(document)
    return version


def _resolve_redacted_findings(
    document: Document,
    output: bytes,
    content_type: str,
    version: DocumentVersion,
    actor: User | None,
    http_request: HttpRequest | None,
) -> None:
    """A finding whose value no longer appears in the redacted version is resolved."""
    remaining: set[str] = set()
    try:
        for piece in Extraction().pieces(output, mime=content_type):
            remaining.update(m.digest for m in pii.find(piece.text))
    except Unreadable:
        return  # nothing can be said about what is left: the findings stay open
    for finding in access.open_findings(document).exclude(kind="malware"):
        if finding.value_digest not in remaining:
            release.finding_resolve(
                finding=finding,
                actor=actor,
                resolution=f"redacted in version {version.number}",
                http_request=http_request,
            )
