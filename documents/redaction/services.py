"""Redaction as the agency works it: draft boxes (drawn, found by a search term, or found by
the personal-data patterns), each with the agency's reason label, then one finalising step
that burns them into a new redacted version. Drafts and the log are ``Redaction`` rows; each
step writes its audit event in the same transaction.

The engine (documents.redaction) rasterises every page, so nothing under a box survives:
no text, no image, no metadata; an OCR layer is restored from the burned pages only.
"""

from __future__ import annotations

from django.db import transaction

import audit
from accounts.models import User
from accounts.tenancy import lock_tenant_row
from documents import access, audit_events, services, types
from documents.models import Document, Redaction, RedactionReason, VersionKind

# PDFs and images are redacted in memory, page by page: above this they are refused with a
# plain message (a 2 GB upload is stored and scanned, but not redacted here).
MAX_REDACTION_BYTES = 200 * 1024 * 1024
PATTERN_LABELS = {
    "ssn": "US Social Security numbers",
    "card": "Payment card numbers",
    "email": "Email addresses",
    "phone": "Phone numbers",
    "birth_date": "Dates of birth",
}


class RedactionRefused(services.DocumentError):
    pass


def kind_of(document: Document) -> str:
    """ "pdf", "image", "convert" (redacted as a PDF made from it), or "unsupported"."""
    if document.content_type == "application/pdf":
        return "pdf"
    try:
        file_type = types.by_mime(document.content_type)
    except KeyError:
        return "unsupported"
    if file_type.redactable:
        return "image"
    from documents import convert

    if file_type.convertible and convert.can_convert(document.content_type):
        return "convert"
    return "unsupported"


def unsupported_reason(document: Document) -> str:
    try:
        file_type = types.by_mime(document.content_type)
    except KeyError:
        file_type = None
    if file_type is not None and file_type.convertible:
        from documents import convert

        return convert.UNAVAILABLE_MESSAGE
    return (
        "This type of file can't be redacted. Only PDFs, images, and documents that can be "
        "turned into PDFs, can."
    )


def original_bytes(document: Document) -> bytes:
    return services.version_bytes(access.original_version(document), limit=MAX_REDACTION_BYTES)


_CONVERSION_FAILURE_SECONDS = 24 * 3600


def _conversion_failed_key(document: Document) -> str:
    return f"documents:conversion-failed:{document.agency_id}:{document.pk}"


def _working_version(document: Document):
    """The stored file the boxes are drawn on: the original, or (for office, text and CSV
    files) its PDF conversion, made once and kept as a staff-only version."""
    if kind_of(document) != "convert":
        return access.original_version(document)
    existing = access.versions(document).filter(kind=VersionKind.CONVERTED).first()
    if existing is not None:
        return existing
    from django.core.cache import cache

    from documents import convert

    # A file the converter refused stays refused: every view of its page would otherwise
    # run LibreOffice again (seconds of a web process each time).
    failed_key = _conversion_failed_key(document)
    if (failure := cache.get(failed_key)) is not None:
        raise RedactionRefused(failure)
    try:
        converted = convert.to_pdf(original_bytes(document), document.content_type)
        if converted is None:
            raise RedactionRefused(convert.UNAVAILABLE_MESSAGE)
    except (convert.ConversionError, services.DocumentError) as error:
        # Final answers (damaged, too large, too slow, no converter on this worker) are
        # remembered; a storage outage is not, and the next visit tries again.
        cache.set(failed_key, str(error), _CONVERSION_FAILURE_SECONDS)
        raise RedactionRefused(str(error)) from None
    with transaction.atomic():
        locked = lock_tenant_row(document)
        existing = access.versions(locked).filter(kind=VersionKind.CONVERTED).first()
        if existing is not None:
            return existing
        return services.version_create(
            document=locked,
            kind=VersionKind.CONVERTED,
            chunks=[converted],
            actor=None,
            content_type="application/pdf",
        )


_CONVERTING_SECONDS = 300  # longer than convert.TIMEOUT: a lost task is started again after


def _converting_key(document: Document) -> str:
    return f"documents:converting:{document.agency_id}:{document.pk}"


def conversion_ready(document: Document) -> bool:
    """For the pages: whether the PDF that an office, text or CSV file is redacted on exists.
    When it does not, it is made in the background (documents.tasks.convert_for_redaction,
    started once, after this transaction commits), never in the web process, where a large
    file could keep a worker busy for minutes. A conversion that failed raises its message.
    Always True for PDFs and images."""
    if kind_of(document) != "convert":
        return True
    if access.versions(document).filter(kind=VersionKind.CONVERTED).exists():
        return True
    from django.core.cache import cache

    if (failure := cache.get(_conversion_failed_key(document))) is not None:
        raise RedactionRefused(failure)
    if cache.add(_converting_key(document), 1, _CONVERTING_SECONDS):
        from documents import tasks

        agency_id, document_id = document.agency_id, document.pk
        transaction.on_commit(
            lambda: tasks.convert_for_redaction.delay(agency_id=agency_id, document_id=document_id)
        )
    return False


def conversion_run(agency_id: int, document_id: int) -> None:
    """The background conversion (documents.tasks.convert_for_redaction)."""
    from django.core.cache import cache

    document = Document.objects.filter(agency=agency_id, pk=document_id).first()
    if document is None:
        return
    try:
        _working_version(document)  # a failure is remembered there
    except RedactionRefused:
        pass
    finally:
        cache.delete(_converting_key(document))


def working_bytes(document: Document) -> bytes:
    return services.version_bytes(_working_version(document), limit=MAX_REDACTION_BYTES)


def is_pdf_like(document: Document) -> bool:
    return kind_of(document) in ("pdf", "convert")


# Page sizes and previews are cached: a page view asks for every page's image, and each
# would otherwise decrypt and parse the whole file again.
_CACHE_SECONDS = 600


def page_info(document: Document) -> list[tuple[float, float]]:
    from django.core.cache import cache

    from documents import redaction

    version = _working_version(document)
    key = f"documents:pages:{version.pk}"
    sizes = cache.get(key)
    if sizes is None:
        data = services.version_bytes(version, limit=MAX_REDACTION_BYTES)
        sizes = redaction.page_sizes(data) if is_pdf_like(document) else _frame_sizes(data)
        cache.set(key, [tuple(size) for size in sizes], _CACHE_SECONDS)
    return [tuple(size) for size in sizes]


def _frame_sizes(data: bytes) -> list[tuple[float, float]]:
    """Every frame of an image (a scanned multi-page TIFF has one per page)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        sizes = []
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            sizes.append((float(image.width), float(image.height)))
    return sizes


def preview_png(document: Document, page: int) -> bytes:
    from django.core.cache import cache

    from documents import redaction

    version = _working_version(document)
    key = f"documents:preview:{version.pk}:{int(page)}"
    png = cache.get(key)
    if png is None:
        data = services.version_bytes(version, limit=MAX_REDACTION_BYTES)
        if is_pdf_like(document):
            png = redaction.render_page(data, page, dpi=80)
        else:
            png = redaction.image_preview(data, page=page)
        cache.set(key, png, _CACHE_SECONDS)
    return png


def _record_added(document, actor, boxes: list[Redaction], how: str, request) -> None:
    audit.record(
        audit_events.REDACTION_ADDED.code,
        http_request=request,
        agency=document.agency_id,
        actor=actor,
        target=document,
        details={"filename": document.filename, "count": len(boxes), "how": how},
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
    request=None,
) -> Redaction:
    """A drawn box, given in percent of the page (what a person or the drawing script sees);
    stored in points from the page's top-left corner."""
    sizes = page_info(document)
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
        _record_added(document, actor, [row], "box", request)
    return row


def _create_boxes(document, actor, reason, boxes, source, note) -> list[Redaction]:
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
    *, document: Document, actor: User, reason: RedactionReason, term: str, request=None
) -> int:
    """ "Redact all": a box over every occurrence of the term on every page."""
    from documents import redaction

    term = term.strip()
    if len(term) < 2:
        raise RedactionRefused("Type at least two characters to search for.")
    if not is_pdf_like(document):
        raise RedactionRefused("Searching works in documents with text. Draw boxes on images.")
    boxes = redaction.find_text_boxes(working_bytes(document), term)
    if not boxes:
        raise RedactionRefused(f"“{term}” does not appear in the text of this document.")
    with transaction.atomic():
        # The log says what kind of search it was, not the (often sensitive) term itself.
        shown = f"{term[0]}… ({len(term)} characters)"
        rows = _create_boxes(document, actor, reason, boxes, Redaction.Source.SEARCH, shown)
        _record_added(document, actor, rows, "search", request)
    return len(rows)


def redaction_add_patterns(
    *, document: Document, actor: User, reason: RedactionReason, kinds: list[str], request=None
) -> int:
    """Boxes over every match of the chosen personal-data patterns."""
    from documents import pii, redaction

    if not is_pdf_like(document):
        raise RedactionRefused("Pattern search works in documents with text. Draw boxes on images.")
    wanted = set(kinds) & set(PATTERN_LABELS)
    if not wanted:
        raise RedactionRefused("Choose at least one kind of personal data.")

    def find(text: str):
        return [(m.start, m.end, m.kind) for m in pii.find(text, kinds=tuple(sorted(wanted)))]

    found = redaction.find_pattern_boxes(working_bytes(document), find)
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
        _record_added(document, actor, rows, "pattern", request)
    return len(rows)


def redaction_remove(*, redaction_row: Redaction, actor: User, request=None) -> None:
    with transaction.atomic():
        document = redaction_row.document
        deleted, _ = Redaction.objects.filter(
            agency=document.agency_id, pk=redaction_row.pk, applied_to__isnull=True
        ).delete()
        if deleted:
            audit.record(
                audit_events.REDACTION_REMOVED.code,
                http_request=request,
                agency=document.agency_id,
                actor=actor,
                target=document,
                details={"filename": document.filename, "page": redaction_row.page},
            )


def progress_key(document: Document) -> str:
    return f"documents:redaction-progress:{document.pk}"


def progress(document: Document) -> dict | None:
    from django.core.cache import cache

    return cache.get(progress_key(document))


def redaction_request(*, document: Document, actor: User, request=None) -> None:
    """Queue the redactions to be applied (OCR takes seconds a page: a background task)."""
    from documents import tasks

    with transaction.atomic():
        locked = lock_tenant_row(document)
        if locked.redaction_running:
            raise RedactionRefused("The redactions are already being applied.")
        if not access.draft_redactions(locked).exists():
            raise RedactionRefused("There are no draft redactions to apply.")
        locked.redaction_running = True
        locked.redaction_message = ""
        locked.save(update_fields=["redaction_running", "redaction_message"])
        tasks.apply_redactions.delay_on_commit(
            agency_id=document.agency_id, document_id=document.pk, actor_id=actor.pk
        )


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
    except (RedactionRefused, services.DocumentError) as error:
        message = str(error)
    finally:
        from django.core.cache import cache

        cache.delete(progress_key(document))
        Document.objects.filter(agency=document.agency_id, pk=document.pk).update(
            redaction_running=False, redaction_message=message[:300]
        )


def redaction_finalise(*, document: Document, actor: User | None, request=None):
    """Burn every draft box into a new redacted version (from the original, so earlier
    redactions are applied again with the new ones), mark the drafts applied, and resolve
    the findings whose values are gone from the new version's text."""
    from django.core.cache import cache

    from documents import redaction

    drafts = list(access.draft_redactions(document))
    if not drafts:
        raise RedactionRefused("There are no draft redactions to apply.")
    applied = list(access.redactions(document).filter(applied_to__isnull=False))
    boxes = [redaction.Box(r.page, r.x0, r.y0, r.x1, r.y1) for r in [*applied, *drafts]]
    data = working_bytes(document)

    def on_page(done: int, total: int) -> None:
        cache.set(progress_key(document), {"done": done, "total": total}, timeout=3600)

    ocr_report: dict = {}
    try:
        if is_pdf_like(document):
            result = redaction.redact(data, boxes, on_page=on_page)
            output, content_type = result.pdf, "application/pdf"
            ocr_report = {
                "pages": result.pages,
                "ocr_pages": len(result.ocr_pages),
                "ocr_failed": result.ocr_failed[:50],
                "ocr_unavailable": result.ocr_unavailable,
            }
        else:
            output = redaction.redact_image(data, boxes, mime=document.content_type)
            content_type = document.content_type
    except redaction.RedactionError as error:
        raise RedactionRefused(str(error)) from None
    with transaction.atomic():
        version = services.version_create(
            document=document,
            kind=VersionKind.REDACTED,
            chunks=[output],
            actor=actor,
            content_type=content_type,
        )
        Redaction.objects.filter(agency=document.agency_id, pk__in=[r.pk for r in drafts]).update(
            applied_to=version
        )
        audit.record(
            audit_events.REDACTED.code,
            http_request=request,
            agency=document.agency_id,
            actor=actor,
            target=document,
            details={
                "filename": document.filename,
                "count": len(drafts),
                "version": version.number,
                "reasons": sorted({r.reason.label for r in drafts}),
                **ocr_report,
            },
        )
        _resolve_redacted_findings(document, output, content_type, version, actor, request)
        # What the public can read and search must follow the new version at once: drop
        # the old text now, re-index from the redacted version once this commits.
        Document.objects.filter(agency=document.agency_id, pk=document.pk).update(released_text="")
        services._refresh_public_text(document)
    return version


def _resolve_redacted_findings(
    document, output: bytes, content_type: str, version, actor, request
) -> None:
    """A finding whose value no longer appears in the redacted version is resolved."""
    from documents import extract, pii

    remaining = set()
    try:
        for piece in extract.Extraction().pieces(output, mime=content_type):
            remaining.update(m.digest for m in pii.find(piece.text))
    except extract.Unreadable:
        return  # nothing can be said about what is left: the findings stay open
    for finding in access.open_findings(document).exclude(kind="malware"):
        if finding.value_digest not in remaining:
            services.finding_resolve(
                finding=finding,
                actor=actor,
                resolution=f"redacted in version {version.number}",
                request=request,
            )
