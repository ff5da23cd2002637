"""Download links: a token that works for minutes, for one version, for one user (or one
visitor's session), issued to an audience whose rule the download checks again. The token
is a signed reference to a ``DownloadGrant`` row, so links can be revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from documents import audit_events
from documents.models import Document, DocumentVersion, DownloadGrant

_SALT = "documents.download"


def session_digest(session_key: str) -> str:
    return hashlib.sha256(f"download-session:{session_key}".encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    token: str
    grant: DownloadGrant


def link_issue(
    *,
    version: DocumentVersion,
    audience: str,
    user: User | None,
    session_key: str = "",
    http_request: HttpRequest | None = None,
) -> Link:
    """A link that works for minutes, for this version, for this user (or this visitor's
    session), issued to an audience (staff, requester, public) whose rule the download checks
    again. The token is a signed reference to the grant row, so it can be revoked."""
    if (user is None or not user.is_authenticated) and not session_key:
        raise ValueError("a link is bound to a user or a session")
    grant = DownloadGrant.objects.create(
        agency_id=version.agency_id,
        token_id=secrets.token_urlsafe(18),
        version=version,
        audience=audience,
        user=user if user is not None and user.is_authenticated else None,
        session_digest=""
        if user is not None and user.is_authenticated
        else session_digest(session_key),
        expires_at=timezone.now() + timedelta(seconds=settings.DOCUMENT_LINK_SECONDS),
    )
    token = signing.dumps({"g": grant.token_id, "a": version.agency_id}, salt=_SALT, compress=False)
    audit_events.record_about(
        audit_events.LINK_ISSUED,
        version.document,
        actor=user if user is not None and user.is_authenticated else None,
        http_request=http_request,
        version=version.number,
        audience=audience,
        expires_in_seconds=settings.DOCUMENT_LINK_SECONDS,
    )
    return Link(token, grant)


class LinkRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def link_check(*, token: str, agency_id: int, user: User | None, session_key: str) -> DownloadGrant:
    """The grant behind a token, if the token is genuine, for this agency, unexpired, not
    revoked, and presented by the user (or session) it was issued to."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.DOCUMENT_LINK_SECONDS)
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("tampered or unknown") from None
    if not isinstance(data, dict) or data.get("a") != agency_id:
        raise LinkRefused("another agency's link")
    grant = (
        DownloadGrant.objects.select_related("version__document__request", "user")
        .filter(agency=agency_id, token_id=str(data.get("g", "")))
        .first()
    )
    if grant is None:
        raise LinkRefused("tampered or unknown")
    if grant.revoked_at is not None:
        raise LinkRefused("revoked")
    if grant.expires_at <= timezone.now():
        raise LinkRefused("expired")
    if grant.user_id is not None:
        if user is None or not user.is_authenticated or user.pk != grant.user_id:
            raise LinkRefused("issued to someone else")
    elif not session_key or grant.session_digest != session_digest(session_key):
        raise LinkRefused("issued to someone else")
    return grant


def link_used(grant: DownloadGrant) -> None:
    DownloadGrant.objects.filter(agency=grant.agency_id, pk=grant.pk).update(
        used_count=F("used_count") + 1
    )


def link_revoke_all(*, document: Document) -> int:
    return DownloadGrant.objects.filter(
        agency=document.agency_id, version__document=document, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
