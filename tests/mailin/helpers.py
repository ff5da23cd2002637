"""Builders of the reply-by-email tests: replies as a mail client writes them, and the
audit events they leave."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from email.message import EmailMessage

from anymail.inbound import AnymailInboundMessage

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal.reply_address import reply_address
from requests_portal.services import submission

REPLY_DOMAIN = "reply.portal.test"
SIGNING_KEY = "mailgun-webhook-signing-key-for-tests"


def address_for(records_request, *, recipient_id=None) -> str:
    recipient = records_request.requester_id if recipient_id is None else recipient_id
    address = reply_address(
        agency_id=records_request.agency_id, request_id=records_request.pk, recipient_id=recipient
    )
    assert address
    return address


def reply_mime(
    *,
    to: str,
    sender: str,
    body: str = "Here is what you asked for.",
    message_id: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
    cc: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Requester <{sender}>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = "Re: Your request"
    message["Message-ID"] = message_id or f"<{uuid.uuid4()}@mail.example>"
    message.set_content(body)
    for filename, data, mime in attachments:
        main, sub = mime.split("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


def reply(**kwargs) -> AnymailInboundMessage:
    return AnymailInboundMessage.parse_raw_mime_bytes(reply_mime(**kwargs))


def events(agency, action: str) -> list[AuditEvent]:
    with agency_context(agency, platform=agency is None):
        return list(AuditEvent.objects.filter(agency=agency, action=action).order_by("pk"))


def mailgun_post(raw: bytes, *, recipient: str, sender: str, key: str = SIGNING_KEY, **override):
    """The form fields of Mailgun's forward() route with raw MIME (``body-mime``), signed as
    Mailgun signs them: HMAC-SHA-256 of timestamp + token with the webhook signing key."""
    timestamp = str(int(time.time()))
    token = uuid.uuid4().hex + uuid.uuid4().hex[:18]
    fields = {
        "timestamp": timestamp,
        "token": token,
        "recipient": recipient,
        "sender": sender,
        "body-mime": raw.decode(),
    }
    fields.update(override)
    fields["signature"] = override.get(
        "signature",
        hmac.new(
            key.encode(), (fields["timestamp"] + fields["token"]).encode(), hashlib.sha256
        ).hexdigest(),
    )
    return fields


def file_request(tenant, *, email="resident@example.org", title="Council minutes 2025"):
    with agency_context(tenant.agency):
        return submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title=title,
            description="Every set of minutes of 2025.",
            contact=submission.Contact(name="Rae Resident", email=email),
            channel="web",
        )
