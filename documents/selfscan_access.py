"""The self-scan's sweep of publicly released documents for personal data (issue 13; the
check is registered with ops.selfscan from DocumentsConfig.ready()).

For every active agency, in that agency's row-level-security context, each document of the
public archive (documents.access.public_documents) has the text of its released version (the
archive search's text, or read from the version itself when not indexed yet) run through the
same personal-data finder as the upload scan (requests_portal.pii). A finding names the
agency, the document and the kind, with the masked excerpt only, never the value. A public
document whose text could not be read (a scanned image): when nothing was found elsewhere,
the result is then "not checked", not "passed"."""

from __future__ import annotations

from accounts import access as accounts_access
from accounts.tenancy import agency_context
from documents import access, search
from documents.errors import DocumentError
from documents.scan.extract.base import Unreadable
from ops.selfscan import FINDINGS, NOT_CHECKED, PASSED, CheckResult
from requests_portal import pii


def _masked(text: str) -> str:
    for match in reversed(pii.find(text)):
        text = text[: match.start] + match.excerpt + text[match.end :]
    return text[:120]


def sweep() -> CheckResult:
    lines: list[str] = []
    checked = unread = 0
    for agency in list(accounts_access.active_agencies()):
        with agency_context(agency):
            rows = access.public_documents(agency).select_related("request__agency")
            for document in rows.order_by("pk").iterator(chunk_size=100):
                text = document.released_text
                if not text.strip():  # not indexed yet: read the released version itself
                    try:
                        text = search.released_text(document)
                    except (DocumentError, Unreadable):
                        text = ""
                if not text.strip():
                    unread += 1
                    continue
                checked += 1
                for match in pii.find(text):
                    lines.append(
                        f"{agency.slug}: {_masked(document.filename)} ({document.public_id}):"
                        f" {match.kind} {match.excerpt}"
                    )
    note = (
        f" {unread} public document(s) had no readable text and were not checked." if unread else ""
    )
    if lines:
        summary = f"Personal data in public documents: {len(lines)} finding(s).{note}"
        return CheckResult(FINDINGS, summary, lines, len(lines))
    if unread:
        return CheckResult(NOT_CHECKED, f"Nothing found in {checked} public document(s).{note}")
    return CheckResult(PASSED, f"No personal data found in {checked} public document(s).")
