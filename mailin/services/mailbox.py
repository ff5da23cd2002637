"""An agency's own reply mailbox (IMAP): saving its settings (the password sealed) and
reading it (beat, every five minutes: mailin.tasks.poll_mailbox)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from anymail.inbound import AnymailInboundMessage
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts.models import Agency, User
from accounts.tenancy import agency_context, lock_tenant_row
from mailin import access, audit_events, imap
from mailin.models import Channel, Mailbox, MailboxSecurity
from mailin.services import inbound
from vault.keyring import SealError, open_sealed, seal

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    accepted: int = 0
    rejected: int = 0
    error: str = ""


def mailbox_save(
    *,
    agency: Agency,
    actor: User | None,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
    folder: str = "INBOX",
    enabled: bool = True,
    http_request: HttpRequest | None = None,
) -> Mailbox:
    """Create or change the agency's mailbox; an empty ``password`` keeps the stored one."""
    if security not in MailboxSecurity.values:
        raise ValueError("Choose TLS or STARTTLS.")
    if not 0 < port < 65536:
        raise ValueError("The port must be between 1 and 65535.")
    with transaction.atomic():
        mailbox = access.mailbox_of(agency)
        if mailbox is None:
            if not password:
                raise ValueError("Give the mailbox's password.")
            mailbox = Mailbox(agency=agency)
        else:
            mailbox = lock_tenant_row(mailbox)
        mailbox.host, mailbox.port, mailbox.security = host.strip(), port, security
        mailbox.username, mailbox.folder, mailbox.enabled = username, folder or "INBOX", enabled
        if password:
            mailbox.sealed_password = seal(password.encode(), aad=mailbox.password_aad())
        mailbox.last_error = ""
        mailbox.save()
        audit.record_for(
            audit_events.MAILBOX_CHANGED,
            mailbox,
            actor=actor,
            http_request=http_request,
            host=mailbox.host,
            port=port,
            security=security,
            enabled=enabled,
            password_changed=bool(password),
        )
    return mailbox


def _note(agency: Agency, error: str) -> None:
    """Keep the last error on the mailbox; audit it when it is a new one (not every five
    minutes while a server stays down)."""
    with agency_context(agency):
        mailbox = access.mailbox_of(agency)
        if mailbox is None:
            return
        mailbox = lock_tenant_row(mailbox)
        if error and error != mailbox.last_error:
            audit.record_for(audit_events.MAILBOX_FAILED, mailbox, error=error)
        mailbox.last_error = error
        mailbox.last_polled_at = timezone.now()
        mailbox.save(update_fields=["last_error", "last_polled_at"])


def mailbox_poll(*, agency: Agency) -> PollResult:
    """Read the agency's unread emails, each one accepted or refused in its own transaction
    (mailin.services.inbound), then marked read. Called outside any transaction."""
    with agency_context(agency):
        mailbox = access.mailbox_of(agency)
    result = PollResult()
    if mailbox is None or not mailbox.enabled:
        return result
    try:
        password = open_sealed(bytes(mailbox.sealed_password), aad=mailbox.password_aad())
    except SealError:
        result.error = "The stored password cannot be opened: enter it again."
        _note(agency, result.error)
        return result
    server = imap.ServerSettings(
        host=mailbox.host,
        port=mailbox.port,
        security=mailbox.security,
        username=mailbox.username,
        password=password.decode(),
        folder=mailbox.folder,
    )
    try:
        with imap.connect(server) as box:
            for uid, raw in box.unseen():
                mail = AnymailInboundMessage.parse_raw_mime_bytes(raw)
                outcome = inbound.mail_receive(
                    mail=mail, channel=Channel.IMAP, mailbox_agency=agency
                )
                if outcome.accepted:
                    result.accepted += 1
                else:
                    result.rejected += 1
                box.mark_seen(uid)
    except imap.MailboxError as error:
        result.error = str(error)[:300]
        logger.warning("mailin: agency %s's mailbox: %s", agency.pk, result.error)
    _note(agency, result.error)
    return result
