"""Files carried inside other files: the messages of a mailbox, the attachments of an email
message (attached messages included), and the files attached to a PDF (decompressed with a
cap). The malware inspection checks them like the file itself; the text extraction reads
them too."""

from __future__ import annotations

import email
import email.policy
import io
import re
import zlib
from collections.abc import Iterator

from celery.exceptions import SoftTimeLimitExceeded

from documents.scan.archives import ArchiveLimits

# --- Email ------------------------------------------------------------------------------------

_MBOX_SEPARATOR = re.compile(rb"(?:^|\n)From [^\n]*\n")


def split_mbox(data: bytes) -> list[bytes]:
    """The messages of an mbox file (lines "From ..." separate them; ">From " lines are
    unescaped)."""
    found = []
    for raw in _MBOX_SEPARATOR.split(data):
        if raw.strip():
            found.append(re.sub(rb"(?m)^>(>*From )", rb"\1", raw))
    return found


def parse_message(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def attachments(raw: bytes) -> Iterator[tuple[str, bytes]]:
    """(file name, decoded bytes) of every leaf part of a message that is not its body text,
    including those of attached messages."""
    message = parse_message(raw)
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename() or ""
        if disposition != "attachment" and not name and part.get_content_maintype() == "text":
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, LookupError):
            payload = None
        if isinstance(payload, bytes):
            yield str(name), payload


# --- PDF attachments ------------------------------------------------------------------------------


def _inflate(raw: bytes, cap: int) -> bytes | None:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
    try:
        out = inflater.decompress(raw, cap + 1)
    except zlib.error:
        return None
    return out if len(out) <= cap else None


def pdf_attached_files(
    data: bytes, limits: ArchiveLimits, notes: list[str]
) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the files attached to a PDF (its embedded-files tree and file
    attachment annotations), decompressed with a cap. Encrypted or damaged PDFs give none
    (the text extraction reports them)."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
        raise
    except Exception:  # noqa: BLE001 (anything a damaged PDF raises: extraction reports it)
        return
    with pdf:
        specs = []
        try:
            specs.extend(spec.obj for spec in pdf.attachments.values())
        except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
            raise
        except Exception:  # noqa: BLE001
            notes.append("The files attached to the PDF could not all be listed.")
        for page in pdf.pages:
            try:
                for annot in page.obj.get("/Annots", None) or []:
                    if annot.get("/Subtype") == "/FileAttachment" and "/FS" in annot:
                        specs.append(annot.FS)
            except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
                raise
            except Exception:  # noqa: BLE001
                notes.append("A file attached to the PDF could not be read.")
        for spec in specs:
            name, payload = filespec_name(spec), None
            try:
                embedded = spec.get("/EF")
                stream = embedded.get("/UF") or embedded.get("/F") if embedded else None
                if stream is not None:
                    payload = stream_bytes(stream, limits.keep_in_memory)
            except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
                raise
            except Exception:  # noqa: BLE001
                payload = None
            if payload is None:
                notes.append("A file attached to the PDF could not be checked.")
                continue
            yield name, payload


def filespec_name(spec) -> str:
    """The file name a PDF file specification gives (a plain string, or the dictionary's
    /UF or /F)."""
    try:
        if not hasattr(spec, "get"):
            return str(spec)
        return str(spec.get("/UF") or spec.get("/F") or "")
    except SoftTimeLimitExceeded:  # the task's time is up: let it end the scan
        raise
    except Exception:  # noqa: BLE001
        return ""


def stream_bytes(stream, cap: int) -> bytes | None:
    """A PDF stream's bytes decoded with a cap (Flate or none; other filters: None)."""
    import pikepdf

    raw = stream.read_raw_bytes()
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    if filters is None:
        return raw if len(raw) <= cap else None
    if filters == "/FlateDecode" and "/DecodeParms" not in stream:
        return _inflate(raw, cap)
    return None
