"""The file a document is redacted on, for the redaction pages and services: the original
(PDFs and images), or for office, text and CSV files its PDF conversion, made once in the
background and kept as a staff-only version (a conversion that failed is remembered); its
bytes, page sizes and page previews (cached: a page view asks for every page's image).
"""

from __future__ import annotations

import io

from django.db import transaction
from PIL import Image

from accounts.tenancy import lock_tenant_row
from documents import access, jobs, types, versions
from documents.errors import DocumentError, RedactionRefused
from documents.models import Document, VersionKind
from documents.redaction import convert, images, rendering
from documents.redaction import soft_cache as cache

# PDFs and images are redacted in memory, page by page: above this they are refused with a
# plain message (a 2 GB upload is stored and scanned, but not redacted here).
MAX_REDACTION_BYTES = 200 * 1024 * 1024


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
    if file_type.convertible and convert.can_convert(document.content_type):
        return "convert"
    return "unsupported"


def unsupported_reason(document: Document) -> str:
    try:
        file_type = types.by_mime(document.content_type)
    except KeyError:
        file_type = None
    if file_type is not None and file_type.convertible:
        return convert.UNAVAILABLE_MESSAGE
    return (
        "This type of file can't be redacted. Only PDFs, images, and documents that can be "
        "turned into PDFs, can."
    )


def original_bytes(document: Document) -> bytes:
    return versions.version_bytes(access.original_version(document), limit=MAX_REDACTION_BYTES)


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
    # A file the converter refused stays refused: every view of its page would otherwise
    # run LibreOffice again (seconds of a web process each time).
    failed_key = _conversion_failed_key(document)
    if (failure := cache.get(failed_key)) is not None:
        raise RedactionRefused(failure)
    try:
        converted = convert.to_pdf(original_bytes(document), document.content_type)
        if converted is None:
            raise RedactionRefused(convert.UNAVAILABLE_MESSAGE)
    except (convert.ConversionError, DocumentError) as error:
        # Final answers (damaged, too large, too slow, no converter on this worker) are
        # remembered; a storage outage is not, and the next visit tries again.
        cache.set(failed_key, str(error), _CONVERSION_FAILURE_SECONDS)
        raise RedactionRefused(str(error)) from None
    with transaction.atomic():
        locked = lock_tenant_row(document)
        existing = access.versions(locked).filter(kind=VersionKind.CONVERTED).first()
        if existing is not None:
            return existing
        return versions.version_create(
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
    if (failure := cache.get(_conversion_failed_key(document))) is not None:
        raise RedactionRefused(failure)
    if cache.add(_converting_key(document), 1, _CONVERTING_SECONDS):
        jobs.convert_for_redaction(document)
    return False


def conversion_run(agency_id: int, document_id: int) -> None:
    """The background conversion (documents.tasks.convert_for_redaction)."""
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
    return versions.version_bytes(_working_version(document), limit=MAX_REDACTION_BYTES)


def is_pdf_like(document: Document) -> bool:
    return kind_of(document) in ("pdf", "convert")


# Page sizes and previews are cached: a page view asks for every page's image, and each
# would otherwise decrypt and parse the whole file again.
_CACHE_SECONDS = 600


def page_info(document: Document) -> list[tuple[float, float]]:
    version = _working_version(document)
    key = f"documents:pages:{version.pk}"
    sizes = cache.get(key)
    if sizes is None:
        data = versions.version_bytes(version, limit=MAX_REDACTION_BYTES)
        sizes = rendering.page_sizes(data) if is_pdf_like(document) else _frame_sizes(data)
        cache.set(key, [tuple(size) for size in sizes], _CACHE_SECONDS)
    return [tuple(size) for size in sizes]


def _frame_sizes(data: bytes) -> list[tuple[float, float]]:
    """Every frame of an image (a scanned multi-page TIFF has one per page)."""
    with Image.open(io.BytesIO(data)) as image:
        sizes = []
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            sizes.append((float(image.width), float(image.height)))
    return sizes


def preview_png(document: Document, page: int) -> bytes:
    version = _working_version(document)
    key = f"documents:preview:{version.pk}:{int(page)}"
    png = cache.get(key)
    if png is None:
        data = versions.version_bytes(version, limit=MAX_REDACTION_BYTES)
        if is_pdf_like(document):
            png = rendering.render_page(data, page, dpi=80)
        else:
            png = images.image_preview(data, page=page)
        cache.set(key, png, _CACHE_SECONDS)
    return png
