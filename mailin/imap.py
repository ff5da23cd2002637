"""Reading an agency's own mailbox over IMAP (the standard library's imaplib), TLS only.

A connection is made with TLS from the start (IMAPS) or upgraded with STARTTLS before the
password is sent; certificates and host names are checked against the system's CAs (plus
MAILIN_IMAP_CA_FILE when set). Unread emails are fetched without marking them read
(BODY.PEEK[]); the caller marks each one read once it has been dealt with, so an email is
never lost between the two, and one dealt with twice is refused as a replay.

The server's name is resolved once and every address it names must be public
(accounts.addresses; loopback too where MAILIN_ALLOW_LOOPBACK_SERVERS allows it: development
and the tests). The connection goes to the address that was checked, while TLS checks the
certificate against the name: a name that answers differently the second time (DNS
rebinding) cannot move the connection into the platform's own network.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings

from accounts import addresses

# At most this many emails per poll: the next poll takes the rest.
BATCH = 50
_UID = re.compile(rb"^\d{1,20}$")


class MailboxError(Exception):
    """The mailbox could not be read; the message is for the agency's admin."""


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    security: str  # "tls" or "starttls"
    username: str
    password: str
    folder: str


def checked_address(host: str, port: int) -> addresses.Address:
    """The one address to connect to for ``host``; MailboxError when it is not allowed."""
    try:
        found = addresses.resolve(host, port)
    except addresses.NotFound:
        raise MailboxError(f"{host} could not be found.") from None
    loopback = bool(settings.MAILIN_ALLOW_LOOPBACK_SERVERS)
    if not all(addresses.allowed(a, loopback_allowed=loopback) for a in found):
        raise MailboxError(
            f"{host} leads to a private or internal network address; the portal only reads "
            "mail servers at a public address."
        )
    return found[0]


class _PinnedIMAP4(imaplib.IMAP4):
    """IMAP with STARTTLS, connected to the checked address (TLS still names the host)."""

    def __init__(self, host: str, port: int, address: addresses.Address, timeout: float):
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):  # type: ignore[no-untyped-def]  # imaplib's signature
        return socket.create_connection((str(self._address), self.port), timeout)


class _PinnedIMAP4_SSL(imaplib.IMAP4_SSL):
    """IMAPS connected to the checked address; the certificate is checked against the host."""

    def __init__(
        self,
        host: str,
        port: int,
        address: addresses.Address,
        context: ssl.SSLContext,
        timeout: float,
    ):
        self._address = address
        super().__init__(host, port, ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout):  # type: ignore[no-untyped-def]  # imaplib's signature
        sock = socket.create_connection((str(self._address), self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.MAILIN_IMAP_CA_FILE or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    def __init__(self, client: imaplib.IMAP4) -> None:
        self.client = client

    def unseen(self, limit: int = BATCH) -> Iterator[tuple[bytes, bytes]]:
        """(uid, raw email) of the unread emails, oldest first, at most ``limit``."""
        status, data = self.client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise MailboxError("The mail server refused to list unread emails.")
        uids = [uid for uid in (data[0] or b"").split() if _UID.match(uid)][:limit]
        for uid in uids:
            status, parts = self.client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            if status != "OK":
                raise MailboxError("The mail server refused to hand over an email.")
            raw = next(
                (part[1] for part in parts if isinstance(part, tuple) and len(part) == 2), None
            )
            if raw is not None:
                yield uid, raw

    def mark_seen(self, uid: bytes) -> None:
        status, _ = self.client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
        if status != "OK":
            raise MailboxError("The mail server refused to mark an email read.")


@contextmanager
def connect(server: ServerSettings) -> Iterator[Mailbox]:
    """A signed-in connection to the folder, closed on exit. MailboxError says what went
    wrong (in words for an admin; never the password)."""
    address = checked_address(server.host, server.port)
    timeout = settings.MAILIN_IMAP_TIMEOUT
    client: imaplib.IMAP4
    try:
        if server.security == "starttls":
            client = _PinnedIMAP4(server.host, server.port, address, timeout)
            client.starttls(ssl_context=_tls_context())
        else:
            client = _PinnedIMAP4_SSL(server.host, server.port, address, _tls_context(), timeout)
    except ssl.SSLError as error:
        raise MailboxError(
            f"The mail server's certificate was not accepted ({error.reason})."
        ) from None
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(
            f"The mail server could not be reached ({type(error).__name__})."
        ) from None
    try:
        try:
            client.login(server.username, server.password)
        except imaplib.IMAP4.error:
            raise MailboxError("The mail server refused the user name or password.") from None
        try:
            status, _ = client.select(_quoted(server.folder))
        except imaplib.IMAP4.error:
            status = "NO"
        if status != "OK":
            raise MailboxError(f"The folder {server.folder!r} could not be opened.")
        try:
            yield Mailbox(client)
        except imaplib.IMAP4.abort:
            raise MailboxError("The mail server closed the connection.") from None
        except imaplib.IMAP4.error as error:
            raise MailboxError(f"The mail server answered with an error ({error}).") from None
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()
