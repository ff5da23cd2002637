"""Replies by email: the emails already turned into messages (so a copy sent again is
refused), and an agency's own mailbox read over IMAP."""

from __future__ import annotations

from django.db import models

from accounts.models import TenantOwned


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "Mail provider's inbound webhook"
    IMAP = "imap", "The agency's own mailbox (IMAP)"


class InboundMail(TenantOwned):
    """One email accepted on a request. ``message_id_digest`` is the SHA-256 of its
    Message-ID header: the same email delivered twice (or replayed) is refused by the unique
    constraint, whichever way it comes in."""

    request = models.ForeignKey(
        "requests_portal.RecordsRequest", on_delete=models.CASCADE, related_name="+"
    )
    message_id_digest = models.CharField(max_length=64)
    message = models.ForeignKey(
        "requests_portal.Message", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "request", "message_id_digest"], name="inbound_mail_once"
            )
        ]


class MailboxSecurity(models.TextChoices):
    TLS = "tls", "TLS from the start (IMAPS, usually port 993)"
    STARTTLS = "starttls", "STARTTLS (usually port 143)"


class Mailbox(TenantOwned):
    """An agency's own mail server, for agencies whose reply domain points at it: polled by
    beat (mailin.tasks.poll_mailboxes). The password is sealed with the master keyring,
    bound to the agency (vault.keyring); only TLS connections are made, certificates
    checked."""

    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(
        max_length=10, choices=MailboxSecurity.choices, default=MailboxSecurity.TLS
    )
    username = models.CharField(max_length=254)
    sealed_password = models.BinaryField()
    folder = models.CharField(max_length=200, default="INBOX")
    enabled = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency"], name="one_mailbox_per_agency")]

    def password_aad(self) -> str:
        return f"mailin_mailbox:{self.agency_id}"
