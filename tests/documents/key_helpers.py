"""Agency-key test helpers: a stored document version of an agency, read back."""

from __future__ import annotations

from documents.models import Document, DocumentVersion, VersionKind
from documents.versions import version_create, version_read
from requests_portal.services import submission as request_submission
from vault import keyring

MARKER = b"Personnel file: SSN 123-45-6789\n"


def new_master_key() -> bytes:
    return keyring.parse_master_keys(keyring.new_master_key())[0]


def new_request(agency):
    return request_submission.request_submit(
        agency=agency,
        actor=None,
        title="Personnel files",
        description="Files of the clerk's office.",
        contact=request_submission.Contact(name="Key Tests"),
        channel="web",
    )


def new_version(agency, content: bytes = MARKER * 3000, records_request=None) -> DocumentVersion:
    """A stored document version of ``agency`` (call inside its agency_context)."""
    document = Document.objects.create(
        agency=agency,
        request=records_request or new_request(agency),
        filename="file.txt",
        content_type="text/plain",
        size=len(content),
    )
    return version_create(
        document=document, kind=VersionKind.ORIGINAL, chunks=[content], actor=None
    )


def read(version: DocumentVersion) -> bytes:
    version = DocumentVersion.objects.select_related("document").get(pk=version.pk)
    return b"".join(version_read(version))
