"""Text of files that carry other files:

- Zip archives: the names of their files, and every file of a type the portal reads,
  within the archive limits (documents.scan.archives).
- Email (.eml, .mbox): headers, text and HTML bodies, attachment names, and the attachments
  themselves like any file, attached messages too.
"""

from __future__ import annotations

from collections.abc import Iterator

from documents import types
from documents.scan.archives import SafeZip
from documents.scan.attachments import parse_message, split_mbox
from documents.scan.extract.base import (
    MAX_IN_MEMORY,
    MAX_NESTING,
    Piece,
    Reader,
    decode_text,
    html_text,
)
from documents.scan.malware import join


class ContainerReader(Reader):
    """Reads zip archives and email messages, and the files they carry."""

    # --- Zip --------------------------------------------------------------------------------------

    def zip(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        archive = SafeZip(data, limits=self.limits)
        names = "\n".join(info.filename for info in archive.infos)
        if names:
            yield Piece(join(location, "names of the files in the archive"), names)
        for info in archive.infos:
            where = join(location, info.filename)
            content, whole = archive.read(info, keep=MAX_IN_MEMORY)
            detected = types.detect(content[:8192], filename=info.filename)
            if detected is None:
                continue
            if not whole:
                self.note(where, "Too large to check for personal data.")
                continue
            if nesting >= MAX_NESTING:
                self.note(where, "Nested too deeply to check.")
                continue
            yield from self.pieces(
                content, mime=detected.mime, name=info.filename, location=where, nesting=nesting + 1
            )

    # --- Email ------------------------------------------------------------------------------------

    def eml(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        yield from self._message(parse_message(data), location, nesting)

    def mbox(self, data: bytes, *, location: str, nesting: int) -> Iterator[Piece]:
        for number, raw in enumerate(split_mbox(data), start=1):
            where = join(location, f"message {number}")
            yield from self._guarded(
                where, "The message", self._message(parse_message(raw), where, nesting)
            )

    def _message(self, message, location: str, nesting: int) -> Iterator[Piece]:
        yield from self._guarded(
            location, "The message's headers", self._headers(message, location)
        )
        yield from self._parts(message, location, nesting)

    def _headers(self, message, location: str) -> Iterator[Piece]:
        lines = []
        for key in message.keys():  # noqa: SIM118 (a Message is not a dict: keys may repeat)
            if key.lower() in _ID_HEADERS or key.lower().startswith("arc-"):
                continue
            for value in message.get_all(key, []):
                try:
                    lines.append(f"{key}: {value}")
                except Exception:  # noqa: BLE001 (a malformed header: its raw text instead)
                    lines.append(f"{key}: {getattr(value, '_parse_tree', '')}")
        if lines:
            yield Piece(join(location, "email headers"), "\n".join(dict.fromkeys(lines)))

    def _parts(self, part, location: str, nesting: int) -> Iterator[Piece]:
        if part.is_multipart():
            for inner in part.iter_parts():
                yield from self._parts(inner, location, nesting)
            return
        maintype = part.get_content_maintype()
        name = str(part.get_filename() or "")
        if maintype == "message":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if hasattr(inner, "items") and nesting < MAX_NESTING:
                yield from self._message(inner, join(location, "attached message"), nesting + 1)
            return
        if part.get_content_disposition() == "attachment" or name or maintype != "text":
            where = join(location, f"attachment {name or '(no name)'}")
            if name:
                yield Piece(join(location, "attachment name"), name)
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and nesting < MAX_NESTING:
                detected = types.detect(payload[:8192], filename=name)
                if detected is not None:
                    yield from self.pieces(
                        payload, mime=detected.mime, name=name, location=where, nesting=nesting + 1
                    )
            return
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = decode_text(payload)
        if part.get_content_subtype() == "html":
            yield Piece(join(location, "email body (HTML)"), html_text(text), by_line=True)
        else:
            yield Piece(join(location, "email body"), text, by_line=True)


# Message ids and signatures: not addresses, only noise as findings.
_ID_HEADERS = {
    "message-id",
    "in-reply-to",
    "references",
    "dkim-signature",
    "domainkey-signature",
    "x-google-dkim-signature",
    "authentication-results",
    "thread-index",
}
