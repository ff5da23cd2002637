"""Replies by email (mailin/): the settings, read from the environment.

Emails to a requester carry ``Reply-To: reply+<signed token>@REPLY_DOMAIN`` (none when it is
unset). The domain's mail reaches the portal through the provider's inbound route (Mailgun:
``forward()`` to ``https://<platform host>/mail/inbound/mailgun/``, signed with
``MAILGUN_WEBHOOK_SIGNING_KEY``; without the key the webhook answers 404) or is read from an
agency's own IMAP mailbox. ``MAILIN_IMAP_CA_FILE`` adds a CA bundle to trust for those
mailboxes (a private CA); the system's CAs otherwise.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from config.env import env_int, env_str


class MailSettings(NamedTuple):
    reply_domain: str
    reply_address_max_age_days: int
    anymail: dict[str, Any]
    # A signed webhook older than this (seconds) is refused: a captured one cannot be
    # replayed later (and a token seen before is refused within it).
    webhook_max_age: int
    # At most this many attachments of one email become documents (the rest are refused).
    max_attachments: int
    imap_ca_file: str
    imap_timeout: int


def mail_settings() -> MailSettings:
    return MailSettings(
        reply_domain=env_str("REPLY_DOMAIN", ""),
        reply_address_max_age_days=env_int("REPLY_ADDRESS_MAX_AGE_DAYS", 180, minimum=1),
        anymail={"MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY", "")},
        webhook_max_age=15 * 60,
        max_attachments=10,
        imap_ca_file=env_str("MAILIN_IMAP_CA_FILE", ""),
        imap_timeout=30,
    )
