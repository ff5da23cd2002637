"""Who may see a document (its release), and findings resolved by staff. Each write is one
transaction with its audit event."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from documents import access, audit_events, jobs, links
from documents.errors import DocumentError
from documents.models import Document, DocumentStatus, Finding, ReleaseLevel
from requests_portal import access as request_access


def document_release(
    *,
    document: Document,
    level: str,
    actor: User,
    override_reason: str = "",
    http_request: HttpRequest | None = None,
) -> Document:
    """Set who may see the document. Never more visible than its request; never released
    before its scans; to the public only without unresolved findings, unless the person
    gives a reason to override (audited as such)."""
    if level not in ReleaseLevel.values:
        raise DocumentError("Choose who may see the document.")
    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .select_related("request")
            .get(agency=document.agency_id, pk=document.pk)
        )
        if level != ReleaseLevel.STAFF and document.status != DocumentStatus.CLEAN:
            raise DocumentError("Only scanned documents can be released.")
        if level != ReleaseLevel.STAFF and (
            document.redaction_running or access.draft_redactions(document).exists()
        ):
            raise DocumentError(
                "This document has redactions that are not applied yet. Apply them (or remove "
                "the drafts) before releasing it."
            )
        if level != ReleaseLevel.STAFF and document.request.release_hold:
            raise DocumentError(
                "This request's records are held: "
                f"{document.request.release_hold}. Release them once that is settled."
            )
        if level == ReleaseLevel.PUBLIC:
            if (
                not request_access.public_requests(document.request.agency)
                .filter(pk=document.request_id)
                .exists()
            ):
                if document.request.description_held:
                    raise DocumentError(
                        "This request is held from the public until its description is "
                        "reviewed for personal data: review it on the request's page first."
                    )
                raise DocumentError(
                    "This request is not public, so its documents can't be released to the "
                    "public. Release them to the requester, or change the request's visibility."
                )
            unresolved = access.open_findings(document).exclude(kind="malware").count()
            unchecked = not document.pii_checked
            if (unresolved or unchecked) and not override_reason.strip():
                if unchecked and not unresolved:
                    raise DocumentError(
                        "Parts of this document could not be checked for personal data "
                        f"({document.status_detail or 'see the scan'}). Check it yourself, "
                        "then give a reason to release it to the public."
                    )
                raise DocumentError(
                    f"This document has {unresolved} unresolved personal-data finding(s). "
                    "Redact or dismiss them first, or give a reason to release it anyway."
                )
            if unresolved or unchecked:
                audit_events.record_about(
                    audit_events.RELEASE_OVERRIDE,
                    document,
                    actor=actor,
                    http_request=http_request,
                    reason=override_reason.strip()[:500],
                    findings=unresolved,
                    not_fully_checked=unchecked,
                )
        old = document.release
        document.release = level
        document.released_at = timezone.now() if level != ReleaseLevel.STAFF else None
        document.released_by = actor if level != ReleaseLevel.STAFF else None
        document.save(update_fields=["release", "released_at", "released_by"])
        if old != level:
            # Links already handed out stop working at once (they last minutes; whoever
            # may still see the document gets a new one).
            links.link_revoke_all(document=document)
        audit_events.record_about(
            audit_events.RELEASED,
            document,
            actor=actor,
            http_request=http_request,
            level=document.get_release_display(),
            version=access.released_version(document).number,
            **{"from": old},  # "from" is a Python keyword
        )
        # Released text feeds the public archive search (documents.search), indexed by the
        # worker once the release commits (text extraction can take a while).
        jobs.index_document(document)
    return document


def finding_resolve(
    *,
    finding: Finding,
    actor: User | None,
    resolution: str,
    http_request: HttpRequest | None = None,
) -> None:
    with transaction.atomic():
        updated = Finding.objects.filter(
            agency=finding.agency_id, pk=finding.pk, resolved_at__isnull=True
        ).update(resolved_at=timezone.now(), resolved_by=actor, resolution=resolution[:200])
        if updated:
            audit_events.record_about(
                audit_events.FINDING_RESOLVED,
                finding.document,
                actor=actor,
                http_request=http_request,
                kind=finding.kind,
                location=finding.location,
                resolution=resolution[:200],
            )
