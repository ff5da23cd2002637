"""Which files the portal accepts, decided from their first bytes, never from their name.

Binary formats are recognised by their signatures (the ``filetype`` library); text formats
(plain text, CSV, email messages and mailboxes) by being valid UTF-8 without control
characters, with email recognised by its header block. Anything else, executables and
scripts above all, is refused. The allow-list is what agencies release: documents,
spreadsheets, images, audio and video, email, and zip archives (opened within limits by the
scanner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

REFUSAL_MESSAGE = (
    "This type of file can't be uploaded. Upload documents (PDF, Word, Excel, text, CSV), "
    "images, audio, video, email messages or zip archives."
)


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str
    label: str
    redactable: bool = False  # the redaction tool works on it directly
    convertible: bool = False  # redactable after conversion to PDF


_ALLOWED = {
    t.mime: t
    for t in (
        FileType("application/pdf", "pdf", "PDF document", redactable=True),
        FileType("image/png", "png", "PNG image", redactable=True),
        FileType("image/jpeg", "jpg", "JPEG image", redactable=True),
        FileType("image/gif", "gif", "GIF image"),
        FileType("image/tiff", "tif", "TIFF image", redactable=True),
        FileType("image/bmp", "bmp", "Bitmap image"),
        FileType("image/webp", "webp", "WebP image"),
        FileType("image/heic", "heic", "HEIC photo"),
        FileType("application/msword", "doc", "Word document (old format)", convertible=True),
        FileType(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
            "Word document",
            convertible=True,
        ),
        FileType(
            "application/vnd.ms-excel", "xls", "Excel workbook (old format)", convertible=True
        ),
        FileType(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            "Excel workbook",
            convertible=True,
        ),
        FileType(
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pptx",
            "PowerPoint presentation",
            convertible=True,
        ),
        FileType(
            "application/vnd.oasis.opendocument.text", "odt", "OpenDocument text", convertible=True
        ),
        FileType(
            "application/vnd.oasis.opendocument.spreadsheet",
            "ods",
            "OpenDocument spreadsheet",
            convertible=True,
        ),
        FileType("application/rtf", "rtf", "Rich text document", convertible=True),
        FileType("text/plain", "txt", "Text file", convertible=True),
        FileType("text/csv", "csv", "CSV table", convertible=True),
        FileType("message/rfc822", "eml", "Email message"),
        FileType("application/mbox", "mbox", "Mailbox"),
        FileType("application/zip", "zip", "Zip archive"),
        FileType("audio/mpeg", "mp3", "MP3 audio"),
        FileType("audio/x-wav", "wav", "WAV audio"),
        FileType("audio/mp4", "m4a", "MPEG-4 audio"),
        FileType("video/mp4", "mp4", "MP4 video"),
        FileType("video/quicktime", "mov", "QuickTime video"),
        FileType("video/x-msvideo", "avi", "AVI video"),
        FileType("video/x-ms-wmv", "wmv", "Windows Media video"),
        FileType("video/webm", "webm", "WebM video"),
    )
}

_EMAIL_HEADER = re.compile(
    rb"^(?:(?:Return-Path|Received|From|To|Cc|Subject|Date|Message-ID|MIME-Version|"
    rb"Content-Type|X-[A-Za-z-]+|Delivered-To|Reply-To|Sender):"
    rb"[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*){3,}",
    re.IGNORECASE,
)
_MBOX_FROM = re.compile(rb"^From \S+ ")


def by_mime(mime: str) -> FileType:
    return _ALLOWED[mime]


def allowed_labels() -> list[str]:
    return sorted({t.label for t in _ALLOWED.values()})


def _text(head: bytes) -> bool:
    """UTF-8 text (or, failing that, Windows-1252 text, as older systems export it) without
    NULs or control characters other than tab, CR, LF, form feed (a partial UTF-8 character
    at the end of the sample is allowed)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:
            text = head[: error.start].decode("utf-8")
        else:
            try:
                text = head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return not any(ord(c) < 32 and c not in "\t\r\n\f" for c in text)


# Windows Installer package, patch and transform: class ids of their root storage (OLE2).
_INSTALLER_CLASS_IDS = tuple(
    bytes([low, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46])
    for low in (0x84, 0x86, 0x82)
)
_WORD_MARKS = (b"\xec\xa5\xc1\x00", "WordDocument".encode("utf-16-le"))
_EXCEL_MARKS = (
    b"\x09\x08\x10\x00\x00\x06\x05\x00",  # BIFF8 BOF record
    b"\x09\x08\x08\x00\x00\x05\x05\x00",  # BIFF5
    "Workbook".encode("utf-16-le"),
    "Book\x00".encode("utf-16-le"),
)


def _ole_type(head: bytes) -> FileType | None:
    """Old Word or Excel from an OLE2 compound file's first bytes; other compound files
    (installer packages above all, PowerPoint, Outlook messages) are not accepted. The
    scanner looks for installer class ids in the whole file again."""
    if any(class_id in head for class_id in _INSTALLER_CLASS_IDS):
        return None
    if head[512:516] == _WORD_MARKS[0] or _WORD_MARKS[1] in head:
        return _ALLOWED["application/msword"]
    kind = filetype.guess(head)
    if (kind is not None and kind.mime == "application/vnd.ms-excel") or any(
        mark in head for mark in _EXCEL_MARKS
    ):
        return _ALLOWED["application/vnd.ms-excel"]
    return None


_MARKUP = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+(?:html|svg)|html|head|body|script|svg|iframe|frameset|object|embed|meta"
    rb"|link|style|div|span|table|form|a|p|img|h[1-6])[\s>/]",
    re.IGNORECASE | re.DOTALL,
)


def _csv(head: bytes) -> bool:
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    for separator in (b",", b";", b"\t"):
        counts = {line.count(separator) for line in lines[:-1]}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False


def detect(head: bytes, *, filename: str = "") -> FileType | None:
    """The allowed type of a file from its first bytes (at least 8 KiB when the file has
    them), or None when it is not one the portal accepts."""
    if head[:4] == b"\xd0\xcf\x11\xe0":  # OLE2 compound file: old Word or Excel only
        return _ole_type(head)
    kind = filetype.guess(head)
    if kind is not None:
        mime = "image/jpeg" if kind.mime == "image/jpx" else kind.mime
        if mime == "application/zip":
            mime = _zip_member_type(head) or mime
        return _ALLOWED.get(mime)
    if head.startswith(b"{\\rtf"):
        return _ALLOWED["application/rtf"]
    if not head or not _text(head):
        return None
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"#!") or head.lstrip()[:2] in (b"MZ",):
        return None  # scripts with an interpreter line are programs, not records
    if _MARKUP.match(head):
        return None  # HTML and SVG run script in a browser: not accepted as text
    if _MBOX_FROM.match(head):
        return _ALLOWED["application/mbox"]
    if _EMAIL_HEADER.match(head):
        return _ALLOWED["message/rfc822"]
    if _csv(head) and filename.lower().endswith((".csv", ".tsv")):
        return _ALLOWED["text/csv"]
    return _ALLOWED["text/plain"]


def _zip_member_type(head: bytes) -> str | None:
    """Office Open XML and OpenDocument files are zip archives; their first entries say
    which (the scanner checks the whole archive later)."""
    if b"[Content_Types].xml" in head[:4096] or b"_rels/.rels" in head[:4096]:
        if b"word/" in head:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if b"xl/" in head:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if b"ppt/" in head:
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    if b"mimetypeapplication/vnd.oasis.opendocument.text" in head[:200]:
        return "application/vnd.oasis.opendocument.text"
    if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head[:200]:
        return "application/vnd.oasis.opendocument.spreadsheet"
    return None
