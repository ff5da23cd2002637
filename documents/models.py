"""Documents attached to records requests: their encrypted versions, keys, uploads in
progress, scan findings, redactions and download grants.

Every table here is tenant-owned (FORCEd row-level security, agency first in its indexes).
Content never touches the database: only ciphertext in storage (vault.storage), with
each version's data key wrapped by the agency's key (documents.keys).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned


class AgencyKey(TenantOwned):
    """An agency's key-encryption key, version by version. ``wrapped`` is the key sealed
    twice: by the agency's escrow key (kept in the key store, outside the database and its
    backups) and then by the master keyring or AWS KMS. Destroying the escrow key makes the
    database copy useless everywhere, backups included (crypto-shredding)."""

    class Backend(models.TextChoices):
        MASTER = "master", "Master keyring"
        KMS = "kms", "AWS KMS"

    version = models.PositiveIntegerField()
    backend = models.CharField(max_length=8, choices=Backend.choices)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "version"], name="agency_key_version"),
        ]

    def __str__(self) -> str:
        return f"Agency {self.agency_id} key v{self.version}"


class ReleaseLevel(models.TextChoices):
    STAFF = "staff", "Staff only"
    REQUESTER = "requester", "Released to the requester"
    PUBLIC = "public", "Released to the public"


class DocumentStatus(models.TextChoices):
    QUARANTINED = "quarantined", "Waiting for scans"
    CLEAN = "clean", "Scanned"
    BLOCKED = "blocked", "Blocked by the malware scan"
    FAILED = "failed", "Could not be read"


class Document(TenantOwned):
    """One file on a request. Its versions hold the content: the original (always
    staff-only once a redacted version exists) and any redacted versions."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "requests_portal.RecordsRequest", on_delete=models.PROTECT, related_name="documents"
    )
    filename = models.CharField(max_length=255)  # shown and offered for download, cleaned
    content_type = models.CharField(max_length=100)  # decided from the content
    size = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUARANTINED
    )
    status_detail = models.CharField(max_length=300, blank=True)
    # Whether the scan read all of the file for personal data. A file only partly checked
    # (too large, parts unreadable, audio or video) needs the audited override for a public
    # release, like one with open findings.
    pii_checked = models.BooleanField(default=False)
    release = models.CharField(
        max_length=12, choices=ReleaseLevel.choices, default=ReleaseLevel.STAFF
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_by_requester = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    scanned_at = models.DateTimeField(null=True, blank=True)
    # Text of the released version, for the public archive search (never the original's
    # when a redacted version exists).
    released_text = models.TextField(blank=True)
    # Applying redactions runs in the background (OCR takes seconds a page).
    redaction_running = models.BooleanField(default=False)
    redaction_message = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["agency", "request", "created_at"], name="document_request"),
            models.Index(fields=["agency", "release"], name="document_release"),
        ]

    def __str__(self) -> str:
        return self.filename


class VersionKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    REDACTED = "redacted", "Redacted"
    # The original turned into a PDF for redaction (staff-only, like the original).
    CONVERTED = "converted", "Converted to PDF"


class DocumentVersion(TenantOwned):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=VersionKind.choices)
    storage_name = models.CharField(max_length=200, unique=True)
    size = models.BigIntegerField()  # plaintext bytes
    stored_size = models.BigIntegerField()  # ciphertext bytes
    # A redacted Word file or image may be a PDF: the version's own type (blank: the
    # document's).
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the plaintext, after scanning
    kek_version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "document", "number"], name="version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving", "Receiving"
    COMPLETE = "complete", "Complete"
    ABANDONED = "abandoned", "Abandoned"


class Upload(TenantOwned):
    """A resumable upload in progress: chunks are sealed as they arrive (each one a part of
    a multipart upload) with the data key of the version they will become."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "requests_portal.RecordsRequest", on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()  # declared, enforced
    chunk_size = models.PositiveIntegerField()
    received = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)  # from the first chunk
    storage_name = models.CharField(max_length=200, unique=True)
    storage_upload_id = models.CharField(max_length=200)
    stream_header = models.BinaryField()
    kek_version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    document_public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_requester = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=UploadStatus.choices, default=UploadStatus.RECEIVING
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["agency", "status", "expires_at"], name="upload_open")]

    def __str__(self) -> str:
        return self.filename


class UploadChunk(TenantOwned):
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    etag = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "upload", "index"], name="upload_chunk_once"),
        ]

    def __str__(self) -> str:
        return f"{self.upload_id} #{self.index}"


class FindingKind(models.TextChoices):
    SSN = "ssn", "US Social Security number"
    CARD = "card", "Payment card number"
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    BIRTH_DATE = "birth_date", "Date of birth"
    MALWARE = "malware", "Malware"


class Finding(TenantOwned):
    """Something a scan found. Personal data must be resolved (redacted, or dismissed with a
    reason) before a public release, or the release is an audited override."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=16, choices=FindingKind.choices)
    location = models.CharField(max_length=200)  # "page 3", "sheet Payroll (hidden) C14"...
    excerpt = models.CharField(max_length=200)  # masked: "***-**-6789"
    value_digest = models.CharField(max_length=64)  # keyed digest: finds it again, reveals nothing
    page = models.PositiveIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "document", "resolved_at"], name="finding_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.location}"


class RedactionReason(TenantOwned):
    """An agency's label for redactions, usually an exemption citation."""

    label = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "label"], name="redaction_reason_label"),
        ]

    def __str__(self) -> str:
        return self.label


class Redaction(TenantOwned):
    """One box on one page, in PDF points from the page's top-left corner. Drafts until
    the document's redactions are finalised into a new version."""

    class Source(models.TextChoices):
        BOX = "box", "Drawn"
        SEARCH = "search", "Search term"
        PATTERN = "pattern", "Personal-data pattern"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="redactions")
    page = models.PositiveIntegerField()  # 1-based
    x0 = models.FloatField()
    y0 = models.FloatField()
    x1 = models.FloatField()
    y1 = models.FloatField()
    reason = models.ForeignKey(RedactionReason, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.BOX)
    note = models.CharField(max_length=200, blank=True)  # the search term or pattern name
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_to = models.ForeignKey(
        DocumentVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["agency", "document", "page"], name="redaction_page")]

    def __str__(self) -> str:
        return f"Redaction on page {self.page}"


class DownloadGrant(TenantOwned):
    """One download link: bound to a document version and to who may use it (a user, or the
    anonymous visitor's session for public documents, or a requester's tracking link);
    expires in minutes; can be revoked. The link carries only a signed reference to it."""

    class Audience(models.TextChoices):
        STAFF = "staff", "Staff"
        REQUESTER = "requester", "Requester"
        PUBLIC = "public", "Public"

    token_id = models.CharField(max_length=32, unique=True)
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="+")
    # Who it was issued as: the download checks the same rule again for that audience.
    audience = models.CharField(max_length=10, choices=Audience.choices, default="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    session_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    used_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["agency", "expires_at"], name="grant_expiry")]

    def __str__(self) -> str:
        return self.token_id


class DocumentSettings(TenantOwned):
    """An agency's choices about documents (one row per agency, made on first use)."""

    max_upload_mb = models.PositiveIntegerField(
        "Largest file staff may upload (MB)", default=settings.DOCUMENT_DEFAULT_MAX_MB
    )
    requester_uploads = models.BooleanField(
        "Requesters may upload files to their own requests", default=False
    )
    requester_max_upload_mb = models.PositiveIntegerField(
        "Largest file a requester may upload (MB)", default=25
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency"], name="document_settings_one_per_agency"),
        ]

    def __str__(self) -> str:
        return f"Document settings of {self.agency_id}"
