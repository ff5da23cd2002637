"""Replies by email: the signed reply-to address on requester emails, and an email to it
turned into a message on the right request (or refused and audited)."""

from __future__ import annotations

import base64
import time

import pytest
from django.core import mail as outbox

from accounts import tasks as account_tasks
from accounts.jobs import Job
from accounts.tenancy import agency_context
from documents import tasks as document_tasks
from documents.models import Document, DocumentStatus
from mailin.models import Channel, InboundMail
from mailin.services import inbound
from requests_portal.models import Message, MessageKind, Status
from requests_portal.reply_address import (
    ReplyAddressError,
    read_reply_token,
    reply_token,
    token_of_address,
)
from requests_portal.services import messaging
from tests.documents import samples
from tests.mailin.helpers import REPLY_DOMAIN, address_for, events, file_request, reply

# --- the address -----------------------------------------------------------------------------


def test_a_reply_address_round_trips_whatever_the_case(records_request):
    address = address_for(records_request)
    local, domain = address.split("@")
    assert domain == REPLY_DOMAIN and local.startswith("reply+") and len(local) <= 64
    for seen in (address, address.upper(), f"  {address.lower()} "):
        token = read_reply_token(token_of_address(seen))
        assert (token.agency_id, token.request_id, token.recipient_id) == (
            records_request.agency_id,
            records_request.pk,
            records_request.requester_id,
        )


def _tampered(token: str, byte: int) -> str:
    raw = bytearray(base64.b32decode(token.upper() + "=" * (-len(token) % 8)))
    raw[byte] ^= 0x01
    return base64.b32encode(bytes(raw)).decode().rstrip("=").lower()


@pytest.mark.parametrize(
    ("part", "byte"),
    [("agency", 3), ("request", 7), ("recipient", 11), ("issued", 15), ("mac", 20)],
)
def test_changing_any_part_of_the_token_is_a_forgery(records_request, part, byte):
    token = reply_token(
        agency_id=records_request.agency_id,
        request_id=records_request.pk,
        recipient_id=records_request.requester_id,
    )
    with pytest.raises(ReplyAddressError) as refused:
        read_reply_token(_tampered(token, byte))
    assert refused.value.reason == "forged"


@pytest.mark.parametrize("token", ["", "0", "!!!!", "a" * 42, "a" * 200, "é" * 42])
def test_malformed_tokens_are_forgeries(token):
    with pytest.raises(ReplyAddressError) as refused:
        read_reply_token(token)
    assert refused.value.reason == "forged"


def test_a_token_signed_with_another_key_is_a_forgery_but_an_old_key_still_reads(
    records_request, settings
):
    original = settings.SECRET_KEY
    token = reply_token(
        agency_id=records_request.agency_id,
        request_id=records_request.pk,
        recipient_id=records_request.requester_id,
    )
    settings.SECRET_KEY = "a-new-secret-key-0123456789-0123456789-0123456789-abcdef"
    with pytest.raises(ReplyAddressError, match="forged"):
        read_reply_token(token)
    settings.SECRET_KEY_FALLBACKS = [original]
    assert read_reply_token(token).request_id == records_request.pk


def test_an_address_expires_after_the_configured_days(records_request, settings):
    settings.REPLY_ADDRESS_MAX_AGE_DAYS = 180
    issued = int(time.time()) - 100 * 86400
    token = reply_token(
        agency_id=records_request.agency_id,
        request_id=records_request.pk,
        recipient_id=records_request.requester_id,
        issued_at=issued,
    )
    assert read_reply_token(token).issued_at == issued
    # The clock moved on 81 days: 181 days old.
    with pytest.raises(ReplyAddressError, match="expired"):
        read_reply_token(token, now=time.time() + 81 * 86400)


def test_an_address_of_another_domain_or_without_a_token_is_unsigned(records_request):
    for address in ("clerk@city.example", f"reply+@{REPLY_DOMAIN}", f"clerk@{REPLY_DOMAIN}"):
        with pytest.raises(ReplyAddressError, match="unsigned"):
            token_of_address(address)


def test_emails_to_the_requester_carry_the_reply_address(
    tenant, records_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, agency_context(tenant.agency):
        messaging.request_message(
            records_request=records_request,
            actor=tenant.staff,
            kind=MessageKind.TO_REQUESTER,
            body="We found the minutes.",
        )
    sent = [
        c.kwargs
        for c in callbacks
        if isinstance(c, Job) and c.task_name == "accounts.tasks.send_email"
    ]
    assert sent and sent[-1]["to"] == ["resident@example.org"]
    (reply_to,) = sent[-1]["reply_to"]
    assert read_reply_token(token_of_address(reply_to)).request_id == records_request.pk
    account_tasks.send_email(**sent[-1])
    assert outbox.outbox[-1].reply_to == [reply_to]


def test_without_a_reply_domain_emails_have_no_reply_address(
    tenant, records_request, settings, django_capture_on_commit_callbacks
):
    settings.REPLY_DOMAIN = ""
    with django_capture_on_commit_callbacks() as callbacks, agency_context(tenant.agency):
        messaging.email_requester(records_request, "message", message=None)
    assert [c.kwargs.get("reply_to") for c in callbacks if isinstance(c, Job)] == [None]


# --- an email turned into a message -------------------------------------------------------------


def _messages(records_request) -> list[Message]:
    with agency_context(records_request.agency_id):
        return list(
            Message.objects.filter(agency=records_request.agency_id, request=records_request)
        )


QUOTED = """Thank you, this is what I need.

Could you also send the 2024 minutes?

On Mon, Dec 7, 2026 at 9:14 AM Alpha Test Agency <records@alpha.example> wrote:
> We found the minutes.
> Reply to this email to answer.
"""


def test_a_reply_becomes_the_requesters_message_without_the_quoted_history(tenant, records_request):
    outcome = inbound.mail_receive(
        mail=reply(to=address_for(records_request), sender="Resident@Example.org", body=QUOTED),
        channel=Channel.WEBHOOK,
    )
    assert outcome.accepted, outcome.reason
    (message,) = _messages(records_request)
    assert message.kind == MessageKind.FROM_REQUESTER
    assert message.author_id == records_request.requester_id
    assert message.body == (
        "Thank you, this is what I need.\n\nCould you also send the 2024 minutes?"
    )
    (accepted,) = events(tenant.agency, "mail.accepted")
    assert accepted.details["channel"] == "webhook"
    assert accepted.target_id == str(records_request.pk)
    assert events(tenant.agency, "request.messaged")


@pytest.mark.parametrize(
    "body",
    [
        "My answer.\n\n-----Original Message-----\nFrom: Agency\nSent: Monday\n\nold text\n",
        "My answer.\n\n" + "_" * 32 + "\nFrom: Agency <a@alpha.example>\nSent: Monday\n\nold\n",
        "My answer.\n> quoted line\n>> older line\n",
    ],
    ids=["original-message", "outlook", "quote-marks"],
)
def test_other_clients_quoted_history_is_stripped(records_request, body):
    outcome = inbound.mail_receive(
        mail=reply(to=address_for(records_request), sender="resident@example.org", body=body),
        channel=Channel.WEBHOOK,
    )
    assert outcome.accepted
    assert [m.body for m in _messages(records_request)] == ["My answer."]


def _refused(records_request, agency, reason, **kwargs):
    kwargs.setdefault("sender", "resident@example.org")
    kwargs.setdefault("to", address_for(records_request))
    outcome = inbound.mail_receive(mail=reply(**kwargs), channel=Channel.WEBHOOK)
    assert (outcome.accepted, outcome.reason) == (False, reason)
    assert _messages(records_request) == []
    refusals = events(agency, "mail.rejected")
    assert refusals and refusals[-1].details["reason"] == reason
    return refusals[-1]


@pytest.mark.parametrize(("part", "byte"), [("request", 7), ("recipient", 11), ("mac", 25)])
def test_a_tampered_address_is_refused_and_audited_on_the_platform(records_request, part, byte):
    token = token_of_address(address_for(records_request))
    refusal = _refused(
        records_request, None, "forged", to=f"reply+{_tampered(token, byte)}@{REPLY_DOMAIN}"
    )
    assert refusal.details["sender"] == "resident@example.org"


def test_an_email_without_a_reply_address_is_refused_as_unsigned(records_request):
    _refused(records_request, None, "unsigned", to="records@alpha.example")


def test_an_expired_address_is_refused(records_request, settings):
    token = reply_token(
        agency_id=records_request.agency_id,
        request_id=records_request.pk,
        recipient_id=records_request.requester_id,
        issued_at=int(time.time()) - 181 * 86400,
    )
    _refused(records_request, None, "expired", to=f"reply+{token}@{REPLY_DOMAIN}")


def test_the_same_email_twice_is_refused_as_replayed(tenant, records_request):
    kwargs = {
        "to": address_for(records_request),
        "sender": "resident@example.org",
        "message_id": "<once@mail.example>",
    }
    assert inbound.mail_receive(mail=reply(**kwargs), channel=Channel.WEBHOOK).accepted
    again = inbound.mail_receive(mail=reply(**kwargs), channel=Channel.IMAP)
    assert (again.accepted, again.reason) == (False, "replayed")
    assert len(_messages(records_request)) == 1
    assert events(tenant.agency, "mail.rejected")[-1].details["reason"] == "replayed"
    with agency_context(tenant.agency):
        assert InboundMail.objects.filter(agency=tenant.agency).count() == 1


def test_an_email_from_someone_else_is_refused_as_wrong_sender(tenant, records_request):
    refusal = _refused(records_request, tenant.agency, "wrong sender", sender="x@evil.example")
    assert refusal.details["request"] == records_request.number


def test_an_address_issued_to_another_person_is_refused(tenant, records_request):
    to = address_for(records_request, recipient_id=tenant.staff.pk)
    _refused(records_request, tenant.agency, "wrong sender", to=to, sender=tenant.staff.email)


def test_another_agencys_request_id_is_an_unknown_request(tenant, other_tenant):
    theirs = file_request(other_tenant)
    # A correctly signed address naming agency A and agency B's request.
    token = reply_token(
        agency_id=tenant.agency.pk, request_id=theirs.pk, recipient_id=theirs.requester_id
    )
    outcome = inbound.mail_receive(
        mail=reply(to=f"reply+{token}@{REPLY_DOMAIN}", sender="resident@example.org"),
        channel=Channel.WEBHOOK,
    )
    assert (outcome.accepted, outcome.reason) == (False, "unknown request")
    assert _messages(theirs) == []
    assert events(tenant.agency, "mail.rejected")[-1].details["reason"] == "unknown request"
    assert events(other_tenant.agency, "mail.rejected") == []


def test_a_reply_to_a_closed_request_is_refused(tenant, records_request):
    with agency_context(tenant.agency):
        records_request.status = Status.CLOSED
        records_request.save(update_fields=["status"])
    _refused(records_request, tenant.agency, "closed request")


def test_an_email_with_nothing_new_is_refused_as_empty(tenant, records_request):
    _refused(records_request, tenant.agency, "empty", body="> only the old text\n")


# --- attachments ---------------------------------------------------------------------------------


def test_attachments_become_quarantined_documents_and_eicar_is_blocked(
    tenant, records_request, requester_uploads
):
    outcome = inbound.mail_receive(
        mail=reply(
            to=address_for(records_request),
            sender="resident@example.org",
            attachments=[
                ("minutes.pdf", samples.pdf("Minutes of March"), "application/pdf"),
                ("test.txt", samples.eicar(), "text/plain"),
            ],
        ),
        channel=Channel.WEBHOOK,
    )
    assert outcome.accepted and len(outcome.documents) == 2
    with agency_context(tenant.agency):
        documents = list(
            Document.objects.filter(agency=tenant.agency, pk__in=outcome.documents).order_by("pk")
        )
    assert [d.status for d in documents] == [DocumentStatus.QUARANTINED] * 2
    assert all(d.uploaded_by_requester for d in documents)
    for document in documents:
        document_tasks.scan_document(agency_id=tenant.agency.pk, document_id=document.pk)
    with agency_context(tenant.agency):
        statuses = {
            d.filename: d.status
            for d in Document.objects.filter(agency=tenant.agency, pk__in=outcome.documents)
        }
    assert statuses == {"minutes.pdf": DocumentStatus.CLEAN, "test.txt": DocumentStatus.BLOCKED}
    assert events(tenant.agency, "mail.accepted")[-1].details["attachments"] == 2


def test_attachments_are_refused_when_requesters_may_not_upload(tenant, records_request):
    outcome = inbound.mail_receive(
        mail=reply(
            to=address_for(records_request),
            sender="resident@example.org",
            attachments=[("minutes.pdf", samples.pdf("Minutes"), "application/pdf")],
        ),
        channel=Channel.WEBHOOK,
    )
    assert outcome.accepted and outcome.documents == []
    assert outcome.refused_attachments == ["minutes.pdf"]
    (refused,) = events(tenant.agency, "mail.attachment_refused")
    assert refused.details["reason"] == "requester uploads are off"


def test_an_attachment_of_a_refused_type_or_size_is_not_stored(
    tenant, records_request, requester_uploads, settings
):
    with agency_context(tenant.agency):
        from documents.models import DocumentSettings

        DocumentSettings.objects.filter(agency=tenant.agency).update(requester_max_upload_mb=1)
    outcome = inbound.mail_receive(
        mail=reply(
            to=address_for(records_request),
            sender="resident@example.org",
            attachments=[
                ("tool.exe", samples.pe_executable(), "application/octet-stream"),
                ("big.txt", b"a" * (1024 * 1024 + 1), "text/plain"),
            ],
        ),
        channel=Channel.WEBHOOK,
    )
    assert outcome.accepted and outcome.documents == []
    assert sorted(outcome.refused_attachments) == ["big.txt", "tool.exe"]
    reasons = [e.details["reason"] for e in events(tenant.agency, "mail.attachment_refused")]
    assert reasons[1] == "too large"
    with agency_context(tenant.agency):
        assert not Document.objects.filter(agency=tenant.agency).exists()
