"""An email to a reply address, turned into a message on its request (and its attachments
into documents), or refused with the reason audited.

Both ways mail comes in (the provider's webhook, an agency's own IMAP mailbox) hand over an
``AnymailInboundMessage`` (a standard library ``EmailMessage``) and get an :class:`Outcome`.
What is checked, in order: a reply address of this portal among the recipients (else
"unsigned"); its MAC ("forged") and age ("expired"); that the mailbox it came through is its
agency's; the request, looked up in its agency's row-level-security context ("unknown
request"); the sender, who must be the person the address was issued to ("wrong sender");
the Message-ID, once per request ("replayed"); something left to say once the quoted history
is taken off ("empty"); the request still open ("closed request"). The message is written
by the service the web's reply form uses, as the requester; attachments go through the
documents upload pipeline (size and type checked before anything is kept, encrypted,
quarantined until the scan). Everything accepted is one transaction with its audit event.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from email.errors import MessageError
from email.utils import getaddresses

from anymail.exceptions import AnymailError
from anymail.inbound import AnymailInboundMessage
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.html import strip_tags
from mailparser_reply import EmailReplyParser

import audit
from accounts.models import Agency, User
from accounts.tenancy import agency_context
from documents import access as document_access
from documents.errors import DocumentError
from documents.upload import services as uploads
from mailin import access, audit_events
from mailin.models import InboundMail
from requests_portal.models import MessageKind, RecordsRequest
from requests_portal.reply_address import (
    ReplyAddressError,
    ReplyToken,
    read_reply_token,
    token_of_address,
)
from requests_portal.services import messaging
from requests_portal.services.changes import RequestStateError

logger = logging.getLogger(__name__)

MAX_BODY_CHARACTERS = 20_000
# The languages whose "On ... wrote:" lines are recognised: the portal's own.
_REPLY_LANGUAGES = ["en", "es"]


@dataclass
class Outcome:
    accepted: bool
    reason: str = ""  # why it was refused
    request_id: int | None = None
    message_id: int | None = None
    documents: list[int] = field(default_factory=list)
    refused_attachments: list[str] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, reason: str, *, agency: Agency | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.agency = agency


@dataclass
class _Attachment:
    filename: str
    data: bytes


@dataclass
class _Mail:
    """What the checks need from an email, read once (a malformed email fails here, never
    half-way through the checks)."""

    sender: str
    recipients: list[str]
    message_id: str
    text: str
    attachments: list[_Attachment]


# What the standard library's and anymail's parsers raise on a malformed email.
_MALFORMED = (AnymailError, MessageError, ValueError, LookupError, TypeError, AttributeError)


def _read(mail: AnymailInboundMessage) -> _Mail:
    sender = mail.from_email
    # The envelope recipient the provider reports first, then the headers (a reply address
    # may be in Cc when the requester replied to all).
    recipients: list[str] = []
    envelope = getattr(mail, "envelope_recipient", None)
    if envelope:
        recipients.append(str(envelope))
    headers: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        headers.extend(str(value) for value in mail.get_all(name, []))
    recipients.extend(address for _, address in getaddresses(headers) if address)
    text = mail.text
    if not text and mail.html:
        text = strip_tags(mail.html)
    attachments = [
        _Attachment(
            filename=str(part.get_filename() or f"attachment-{index + 1}")[:255],
            data=part.get_content_bytes() or b"",
        )
        for index, part in enumerate(mail.attachments)
    ]
    return _Mail(
        sender=str(sender.addr_spec if sender is not None else "").strip(),
        recipients=recipients,
        message_id=str(mail.get("Message-ID") or "").strip(),
        text=str(text or ""),
        attachments=attachments,
    )


def _token_of(mail: _Mail) -> ReplyToken:
    """The first reply address among the recipients, checked. A forged or expired one wins
    over "unsigned" (an email with no reply address at all)."""
    problem = ReplyAddressError("unsigned")
    for address in mail.recipients:
        try:
            return read_reply_token(token_of_address(address))
        except ReplyAddressError as error:
            if error.reason != "unsigned":
                problem = error
    raise problem


def _message_id_digest(mail: _Mail) -> str:
    if not mail.message_id:
        raise _Refused("no message id")
    return hashlib.sha256(mail.message_id.encode("utf-8", "replace")).hexdigest()


def reply_text(text: str) -> str:
    """What the requester wrote, without the quoted history: mailparser-reply takes off the
    "On ... wrote:" block, Outlook's and other clients' separators and signatures; any line
    still quoted with ">" goes too."""
    text = text.replace("\r\n", "\n")
    try:
        parsed = EmailReplyParser(languages=_REPLY_LANGUAGES).parse_reply(text=text)
    except Exception:  # noqa: BLE001 -- a parser failure keeps the whole text, quotes removed below
        logger.warning("mailin: the reply parser failed; quoted lines removed only")
        parsed = text
    lines = [line for line in (parsed or "").split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()[:MAX_BODY_CHARACTERS]


def _refuse(
    reason: str,
    *,
    channel: str,
    agency: Agency | None,
    sender: str,
    records_request: RecordsRequest | None = None,
    http_request: HttpRequest | None = None,
) -> Outcome:
    """Audit the refusal: on the agency's chain when the address named one, else the
    platform's."""
    details = {"reason": reason, "channel": channel, "sender": sender[:254]}
    if records_request is not None:
        details["request"] = records_request.number
    with agency_context(agency, platform=agency is None):
        audit.record(
            audit_events.MAIL_REJECTED.code,
            agency=agency,
            target=records_request,
            details=details,
            http_request=http_request,
        )
    return Outcome(
        accepted=False, reason=reason, request_id=records_request.pk if records_request else None
    )


def _check_sender(token: ReplyToken, records_request: RecordsRequest, sender: str) -> User | None:
    """The requester the address was issued to, when the email comes from them."""
    if token.recipient_id:
        person = access.recipient(token.recipient_id)
        if (
            person is None
            or records_request.requester_id != person.pk
            or person.email.casefold() != sender.casefold()
        ):
            raise _Refused("wrong sender")
        return person
    if not records_request.requester_email or (
        records_request.requester_email.casefold() != sender.casefold()
    ):
        raise _Refused("wrong sender")
    return None


def _attachments(
    mail: _Mail,
    records_request: RecordsRequest,
    person: User | None,
    outcome: Outcome,
) -> None:
    """Each attachment through the documents upload pipeline, as the requester's upload;
    one refused is audited and the rest go on."""
    if not mail.attachments:
        return
    allowed = document_access.settings_for(records_request.agency).requester_uploads
    for index, part in enumerate(mail.attachments):
        filename = part.filename
        if not allowed:
            reason = "requester uploads are off"
        elif index >= settings.MAILIN_MAX_ATTACHMENTS:
            reason = "too many attachments"
        else:
            reason = _store_attachment(part, filename, records_request, person, outcome)
        if reason:
            outcome.refused_attachments.append(filename)
            audit.record_for(
                audit_events.ATTACHMENT_REFUSED,
                records_request,
                actor=person,
                filename=filename,
                reason=reason,
            )


def _store_attachment(
    part: _Attachment,
    filename: str,
    records_request: RecordsRequest,
    person: User | None,
    outcome: Outcome,
) -> str:
    """Store one attachment; returns why it was refused, or "" when it was kept."""
    data = part.data
    # The size is known before anything is stored: refused here above the agency's limit.
    if len(data) > uploads.upload_limit(records_request.agency_id, by_requester=True):
        return "too large"
    try:
        with transaction.atomic():
            document = uploads.upload_whole(
                records_request=records_request,
                filename=filename,
                size=len(data),
                chunks=[data],
                actor=person,  # type: ignore[arg-type]  # a guest requester has no account
                by_requester=True,
            )
    except DocumentError as error:
        return str(error)[:200] or "refused"
    outcome.documents.append(document.pk)
    return ""


def mail_receive(
    *,
    mail: AnymailInboundMessage,
    channel: str,
    mailbox_agency: Agency | None = None,
    http_request: HttpRequest | None = None,
) -> Outcome:
    """Turn one email into a message on its request, or refuse it (audited, with why).
    ``mailbox_agency``: the agency whose own mailbox it was read from (IMAP); an address of
    another agency is then refused."""
    try:
        read = _read(mail)
    except _MALFORMED:
        return _refuse(
            "malformed",
            channel=channel,
            agency=mailbox_agency,
            sender="",
            http_request=http_request,
        )
    sender = read.sender
    try:
        token = _token_of(read)
    except ReplyAddressError as error:
        return _refuse(
            error.reason,
            channel=channel,
            agency=mailbox_agency,
            sender=sender,
            http_request=http_request,
        )
    if mailbox_agency is not None and token.agency_id != mailbox_agency.pk:
        return _refuse("unknown request", channel=channel, agency=mailbox_agency, sender=sender)
    agency = mailbox_agency or access.active_agency(token.agency_id)
    if agency is None:
        return _refuse(
            "unknown request",
            channel=channel,
            agency=None,
            sender=sender,
            http_request=http_request,
        )
    records_request: RecordsRequest | None = None
    try:
        with agency_context(agency):
            records_request = access.request_for_reply(agency, token.request_id)
            if records_request is None:
                raise _Refused("unknown request")
            return _accept(read, token, records_request, sender, channel)
    except _Refused as refusal:
        return _refuse(
            refusal.reason,
            channel=channel,
            agency=agency,
            sender=sender,
            records_request=records_request,
            http_request=http_request,
        )


def _accept(
    mail: _Mail,
    token: ReplyToken,
    records_request: RecordsRequest,
    sender: str,
    channel: str,
) -> Outcome:
    person = _check_sender(token, records_request, sender)
    digest = _message_id_digest(mail)
    if access.already_accepted(records_request, digest):
        raise _Refused("replayed")
    body = reply_text(mail.text)
    if not body and not mail.attachments:
        raise _Refused("empty")
    if not body:
        body = "(Attachments only.)"
    outcome = Outcome(accepted=True, request_id=records_request.pk)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    inbound = InboundMail.objects.create(
                        agency=records_request.agency,
                        request=records_request,
                        message_id_digest=digest,
                        channel=channel,
                    )
            except IntegrityError:
                raise _Refused("replayed") from None  # the same email, accepted a moment ago
            message = messaging.request_message(
                records_request=records_request,
                actor=person,
                kind=MessageKind.FROM_REQUESTER,
                body=body,
            )
            inbound.message = message
            inbound.save(update_fields=["message"])
            outcome.message_id = message.pk
            _attachments(mail, records_request, person, outcome)
            audit.record_for(
                audit_events.MAIL_ACCEPTED,
                records_request,
                actor=person,
                channel=channel,
                message=message.pk,
                attachments=len(outcome.documents),
                refused_attachments=len(outcome.refused_attachments),
            )
    except RequestStateError:
        raise _Refused("closed request") from None
    return outcome
