"""What the browser tests of uploads share (tests/browser/test_document_upload.py, the staff
journey): the small chunk size the live server is given, a PDF padded to span several parts,
and scripts that watch the progress bar and catch script errors in the page. Not a test
module, so the tests can import it."""

from __future__ import annotations

import io

import pikepdf

from tests.documents.helpers import pdf_with_text

KIB = 1024
# Four 64 KiB segments (a chunk must be a whole number of them): a file of about a MiB
# is sent in five parts, so the progress bar has steps to show and a part to lose.
CHUNK = 256 * KIB
# In every part of the file's plaintext; must be in none of the stored bytes.
MARKER = b"PLAINTEXT MARKER 4f1c council budget minutes;"


def small_chunks(settings) -> None:
    """For an autouse fixture of the test module: the live server reads the same settings,
    so its uploads use this chunk size."""
    settings.DOCUMENT_CHUNK_SIZE = CHUNK


def padded_pdf(size: int, *lines: str) -> bytes:
    """A real PDF (its page reads back as text) of about ``size`` bytes: a stream of MARKER
    lines, kept uncompressed, pads it, so the marker is in the plaintext of every part. Its page
    reads ``lines`` (by default a council's minutes)."""
    pdf = pikepdf.open(
        io.BytesIO(pdf_with_text(*(lines or ("Council minutes", "Budget session 2025"))))
    )
    padding = (MARKER + b"\n") * (size // (len(MARKER) + 1))
    pdf.Root[pikepdf.Name("/PortalTestPadding")] = pdf.make_stream(padding)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


# Runs in the page: remembers every value the upload's progress bar shows, every amount
# written beside it ("0 MB of 1.1 MB") and every status line under it (the bar and the
# amount are removed once the file is stored, so the test can't just read them at the end).
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  window.amountSeen = [];
  window.statusSeen = [];
  const list = document.getElementById("upload-progress-list");
  const note = (bar) => window.progressSeen.push([bar.value, bar.max]);
  const noteAmount = (span) => window.amountSeen.push(span.textContent);
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes" && record.target.matches("progress")) {
        note(record.target);
      }
      if (record.type === "childList" && record.target.matches(".upload-text")) {
        window.statusSeen.push(record.target.textContent);
      }
      if (record.type === "childList" && record.target.matches(".upload-amount")) {
        noteAmount(record.target);
      }
      for (const node of record.addedNodes) {
        if (node.querySelectorAll) {
          node.querySelectorAll("progress").forEach(note);
          node.querySelectorAll(".upload-amount").forEach(noteAmount);
        }
      }
    }
  }).observe(list, {subtree: true, childList: true, attributes: true, attributeFilter: ["value"]});
}"""


def script_problems(page) -> list[str]:
    """Collects uncaught script errors and Content-Security-Policy refusals: either would
    mean upload.js did not run as written on the real page."""
    problems: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    return problems
