"""Converting documents to PDF so they can be redacted.

Office documents (Word, Excel, PowerPoint, OpenDocument, RTF) need LibreOffice: when its
``soffice`` program is installed, ``to_pdf`` runs it headless in a throw-away folder with a
throw-away profile and a time limit; when it is not, ``to_pdf`` returns None and
``converter_available()`` is False, and the portal says plainly that such files can't be
redacted here (``UNAVAILABLE_MESSAGE``). Plain text and CSV need nothing: they are set in a
monospaced font on Letter pages by ``text_to_pdf`` (characters outside Windows-1252 become
"?"; lines are wrapped, never cut).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pikepdf
from pikepdf import Dictionary, Name

TIMEOUT = 120  # seconds
MAX_TEXT_BYTES = 20 * 1024 * 1024  # about 5,000 pages of text
MAX_OUTPUT_BYTES = 500 * 1024 * 1024

UNAVAILABLE_MESSAGE = (
    "Office documents can't be redacted here: no converter to PDF (LibreOffice) is installed "
    "on this server. Save the document as a PDF and upload that, then redact the PDF."
)

# The suffix LibreOffice needs to pick its import filter.
OFFICE_SUFFIXES = {
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/rtf": ".rtf",
}
TEXT_TYPES = {"text/plain", "text/csv"}


class ConversionError(Exception):
    """The converter ran and failed; the message is plain and safe to show staff."""


# Heroku's apt buildpack unpacks LibreOffice under ~/.apt, where usr/bin/soffice is still a
# link to /usr/lib/libreoffice/...: outside the slug, so it resolves to nothing there.
APT_PROGRAM_FOLDER = Path(".apt") / "usr" / "lib" / "libreoffice" / "program"


def converter_path() -> str | None:
    return (
        shutil.which("soffice")
        or shutil.which("libreoffice")
        or shutil.which("soffice", path=str(Path.home() / APT_PROGRAM_FOLDER))
    )


def converter_available() -> bool:
    """Whether office documents can be converted (LibreOffice is installed)."""
    return converter_path() is not None


def can_convert(mime: str) -> bool:
    """Whether ``to_pdf`` can turn this type into a PDF on this server now."""
    if mime in TEXT_TYPES:
        return True
    return mime in OFFICE_SUFFIXES and converter_available()


def to_pdf(data: bytes, mime: str, *, timeout: float = TIMEOUT) -> bytes | None:
    """The document as a PDF, or None when no converter for it is installed. Raises
    ConversionError when the converter fails or takes longer than ``timeout`` seconds."""
    if mime in TEXT_TYPES:
        return text_to_pdf(data)
    if mime not in OFFICE_SUFFIXES:
        raise ConversionError("This type of file can't be converted to PDF.")
    program = converter_path()
    if program is None:
        return None
    _remove_abandoned_work_folders()
    with tempfile.TemporaryDirectory(prefix="convert-", dir=_work_parent(len(data))) as folder:
        work = Path(folder)
        source = work / f"document{OFFICE_SUFFIXES[mime]}"
        source.write_bytes(data)
        outdir = work / "out"
        outdir.mkdir()
        profile = work / "profile"
        command = [
            program,
            f"-env:UserInstallation={profile.as_uri()}",  # concurrent runs never share one
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(source),
        ]
        # LibreOffice's own temporary files go in the same folder, and go with it.
        env = {**os.environ, "HOME": str(work), "TMPDIR": str(work)}
        process = subprocess.Popen(  # noqa: S603  # nosec B603  # no shell; our own arguments
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=work,
            start_new_session=True,  # its helpers can be stopped with it
        )
        try:
            process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            raise ConversionError(
                f"Converting the document to PDF took longer than {round(timeout)} seconds."
            ) from None
        except BaseException:
            _stop(process)  # e.g. the task's soft time limit: LibreOffice goes too
            raise
        produced = sorted(outdir.glob("*.pdf"))
        if process.returncode != 0 or not produced:
            raise ConversionError("The document could not be converted to PDF.")
        if produced[0].stat().st_size > MAX_OUTPUT_BYTES:
            raise ConversionError("The converted PDF is too large.")
        pdf = produced[0].read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise ConversionError("The document could not be converted to PDF.")
    return pdf


# The plaintext waits for the converter in a memory-backed folder when there is one with room
# (/dev/shm on most Linux systems), so it never reaches a disk; otherwise in the system's
# temporary folder. Either way the work folder is mkdtemp's (random name, 0700), removed after.
RAM_FOLDER = Path("/dev/shm")  # noqa: S108  # nosec B108  # only the parent of a private mkdtemp folder
RAM_HEADROOM = 256 * 1024 * 1024  # LibreOffice's profile and the PDF it writes


def _work_parent(size: int) -> str | None:
    try:
        stats = os.statvfs(RAM_FOLDER)
    except OSError:
        return None
    room = stats.f_bavail * stats.f_frsize
    if room >= 2 * size + RAM_HEADROOM and os.access(RAM_FOLDER, os.W_OK | os.X_OK):
        return str(RAM_FOLDER)
    return None  # tempfile's default


ABANDONED_AFTER = 3600  # seconds; far longer than any conversion may run (TIMEOUT)


def _remove_abandoned_work_folders() -> None:
    """Work folders of conversions whose process was killed outright (a hard time limit, the
    out-of-memory killer) hold a plaintext document: the next conversion removes them."""
    cutoff = time.time() - ABANDONED_AFTER
    for parent in {RAM_FOLDER, Path(tempfile.gettempdir())}:
        with contextlib.suppress(OSError):
            for folder in parent.glob("convert-*"):
                with contextlib.suppress(OSError):
                    info = folder.lstat()  # a symlink is never followed
                    if (
                        stat.S_ISDIR(info.st_mode)
                        and info.st_uid == os.getuid()
                        and info.st_mtime < cutoff
                    ):
                        shutil.rmtree(folder, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


# --- Text ---------------------------------------------------------------------------------

_PAGE = (612, 792)  # Letter
_MARGIN = 54
_SIZE = 9  # points; Courier is 0.6 em wide
_LEADING = 11
_COLUMNS = int((_PAGE[0] - 2 * _MARGIN) / (_SIZE * 0.6))
_LINES = int((_PAGE[1] - 2 * _MARGIN) / _LEADING)


def _lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        raw = raw.expandtabs(4).replace("\f", "")
        lines.extend(
            textwrap.wrap(raw, _COLUMNS, drop_whitespace=False, replace_whitespace=False) or [""]
        )
    return lines


def _escape(line: str) -> bytes:
    encoded = line.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_to_pdf(data: bytes) -> bytes:
    """Plain text (UTF-8; other bytes shown as U+FFFD then "?") in Courier on Letter pages."""
    if len(data) > MAX_TEXT_BYTES:
        raise ConversionError("This text file is too long to convert to PDF here.")
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = _lines(text)
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Courier, Encoding=Name.WinAnsiEncoding
        )
    )
    for start in range(0, max(len(lines), 1), _LINES):
        chunk = lines[start : start + _LINES]
        content = io.BytesIO()
        content.write(
            f"BT /F1 {_SIZE} Tf {_LEADING} TL {_MARGIN} {_PAGE[1] - _MARGIN - _SIZE} Td\n".encode()
        )
        for line in chunk:
            content.write(b"(" + _escape(line) + b") Tj T*\n")
        content.write(b"ET\n")
        page = Dictionary(
            Type=Name.Page,
            MediaBox=[0, 0, *_PAGE],
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=pikepdf.Stream(pdf, content.getvalue()),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()
