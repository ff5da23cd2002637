"""An agency's own reply mailbox, read over IMAP from a real Dovecot (tests/mailin/
dovecot_server.py): replies in it land on their requests, every email is marked read once
dealt with, and a server that cannot be reached or refuses the password is noted."""

from __future__ import annotations

import pytest

from accounts.tenancy import agency_context
from mailin import tasks
from mailin.models import Mailbox, MailboxSecurity
from mailin.services import mailbox as mailbox_services
from requests_portal.models import Message
from tests.documents.samples import eicar
from tests.mailin.helpers import address_for, events, file_request, reply_mime
from vault.keyring import open_sealed


def _configure(tenant, server, *, security=MailboxSecurity.TLS, password=None, port=None):
    with agency_context(tenant.agency):
        return mailbox_services.mailbox_save(
            agency=tenant.agency,
            actor=tenant.admin,
            host="localhost",
            port=port
            or (server.imaps_port if security == MailboxSecurity.TLS else server.imap_port),
            security=security,
            username=server.user,
            password=server.password if password is None else password,
        )


def _messages(records_request) -> list[str]:
    with agency_context(records_request.agency_id):
        return list(
            Message.objects.filter(
                agency=records_request.agency_id, request=records_request
            ).values_list("body", flat=True)
        )


@pytest.mark.parametrize("security", [MailboxSecurity.TLS, MailboxSecurity.STARTTLS])
def test_replies_in_the_agencys_mailbox_land_on_their_requests(
    tenant, other_tenant, records_request, mailbox_server, security
):
    _configure(tenant, mailbox_server, security=security)
    theirs = file_request(other_tenant)
    sender = "resident@example.org"
    mailbox_server.deliver(
        reply_mime(to=address_for(records_request), sender=sender, body="Got it, thanks.")
    )
    # Another agency's reply address in this agency's mailbox: refused.
    mailbox_server.deliver(reply_mime(to=address_for(theirs), sender=sender, body="Hello."))
    mailbox_server.deliver(reply_mime(to="records@alpha.example", sender=sender))
    result = tasks.poll_mailbox(agency_id=tenant.agency.pk)
    assert result == {"accepted": 1, "rejected": 2, "error": ""}
    assert _messages(records_request) == ["Got it, thanks."]
    assert _messages(theirs) == []
    reasons = [e.details["reason"] for e in events(tenant.agency, "mail.rejected")]
    assert sorted(reasons) == ["unknown request", "unsigned"]
    assert events(tenant.agency, "mail.accepted")[-1].details["channel"] == "imap"
    assert mailbox_server.unseen_count() == 0
    # Read again: nothing new.
    assert tasks.poll_mailbox(agency_id=tenant.agency.pk)["accepted"] == 0


def test_an_email_left_unread_by_a_crash_is_refused_as_a_replay(
    tenant, records_request, mailbox_server
):
    _configure(tenant, mailbox_server)
    raw = reply_mime(
        to=address_for(records_request), sender="resident@example.org", message_id="<a@b.c>"
    )
    mailbox_server.deliver(raw)
    assert tasks.poll_mailbox(agency_id=tenant.agency.pk)["accepted"] == 1
    mailbox_server.deliver(raw)  # as if it had not been marked read
    assert tasks.poll_mailbox(agency_id=tenant.agency.pk) == {
        "accepted": 0,
        "rejected": 1,
        "error": "",
    }
    assert len(_messages(records_request)) == 1


def test_an_eicar_attachment_from_the_mailbox_is_quarantined_then_blocked(
    tenant, records_request, mailbox_server, requester_uploads
):
    from documents import tasks as document_tasks
    from documents.models import Document, DocumentStatus

    _configure(tenant, mailbox_server)
    mailbox_server.deliver(
        reply_mime(
            to=address_for(records_request),
            sender="resident@example.org",
            attachments=[("test.txt", eicar(), "text/plain")],
        )
    )
    assert tasks.poll_mailbox(agency_id=tenant.agency.pk)["accepted"] == 1
    with agency_context(tenant.agency):
        (document,) = Document.objects.filter(agency=tenant.agency)
    assert document.status == DocumentStatus.QUARANTINED
    document_tasks.scan_document(agency_id=tenant.agency.pk, document_id=document.pk)
    with agency_context(tenant.agency):
        document.refresh_from_db()
    assert document.status == DocumentStatus.BLOCKED


def test_the_password_is_sealed_to_the_agency(tenant, mailbox_server):
    saved = _configure(tenant, mailbox_server)
    with agency_context(tenant.agency):
        row = Mailbox.objects.get(agency=tenant.agency)
    assert mailbox_server.password.encode() not in bytes(row.sealed_password)
    assert open_sealed(bytes(row.sealed_password), aad=saved.password_aad()) == (
        mailbox_server.password.encode()
    )
    (changed,) = events(tenant.agency, "mail.mailbox_changed")
    assert changed.details["password_changed"] is True
    assert mailbox_server.password not in str(changed.details)


def test_a_wrong_password_or_an_unreachable_server_is_noted_once(tenant, mailbox_server, settings):
    _configure(tenant, mailbox_server, password="not-the-password")
    for _ in range(2):
        result = tasks.poll_mailbox(agency_id=tenant.agency.pk)
        assert result["error"] == "The mail server refused the user name or password."
    assert len(events(tenant.agency, "mail.mailbox_failed")) == 1
    with agency_context(tenant.agency):
        assert Mailbox.objects.get(agency=tenant.agency).last_error == result["error"]


def test_an_untrusted_certificate_is_refused(tenant, mailbox_server, settings):
    settings.MAILIN_IMAP_CA_FILE = ""  # the test CA is not trusted
    _configure(tenant, mailbox_server)
    result = tasks.poll_mailbox(agency_id=tenant.agency.pk)
    assert result["error"].startswith("The mail server's certificate was not accepted")


def test_no_mailbox_means_nothing_to_do(tenant):
    assert tasks.poll_mailbox(agency_id=tenant.agency.pk) == {
        "accepted": 0,
        "rejected": 0,
        "error": "",
    }


def test_the_command_sets_the_mailbox_with_the_password_from_the_prompt(
    tenant, mailbox_server, monkeypatch
):
    from django.core.management import CommandError, call_command

    monkeypatch.setattr(
        "mailin.management.commands.mailbox_set.getpass", lambda prompt: mailbox_server.password
    )
    call_command(
        "mailbox_set",
        tenant.agency.slug,
        "--host=localhost",
        f"--port={mailbox_server.imaps_port}",
        f"--user={mailbox_server.user}",
    )
    assert tasks.poll_mailbox(agency_id=tenant.agency.pk)["error"] == ""
    with pytest.raises(CommandError, match="No agency"):
        call_command("mailbox_set", "nobody", "--host=localhost", "--user=x")
