"""Audit event types of replies by email."""

from audit.registry import category, register, register_page_titles

MAIL = category("mail_in", "Replies by email", 45)

MAIL_ACCEPTED = register(
    "mail.accepted",
    "A reply by email from the requester was added to the request ({attachments} attachments)",
    label="Reply by email accepted",
    category=MAIL,
)
MAIL_REJECTED = register(
    "mail.rejected",
    "An email to a reply address was refused ({reason})",
    label="Reply by email refused",
    category=MAIL,
)
ATTACHMENT_REFUSED = register(
    "mail.attachment_refused",
    "An attachment of a reply by email was not kept ({reason})",
    label="Attachment of a reply by email refused",
    category=MAIL,
)
MAILBOX_CHANGED = register(
    "mail.mailbox_changed",
    "{actor} changed the agency's reply mailbox (IMAP)",
    label="Reply mailbox changed",
    category=MAIL,
)
MAILBOX_FAILED = register(
    "mail.mailbox_failed",
    "The agency's reply mailbox could not be read ({error})",
    label="Reply mailbox could not be read",
    category=MAIL,
)

register_page_titles(
    {
        "mailin:mailgun_inbound": "the mail provider's inbound webhook",
        "staff:mailbox_settings": "the reply mailbox settings",
    }
)
