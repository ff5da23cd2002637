"""A real IMAP server for the reply-mailbox tests: Debian's Dovecot (dovecot-imapd), started
in the foreground with a configuration of its own under a fresh folder.

`start_dovecot()` makes a test CA and a certificate for 127.0.0.1 / localhost, one mail user
with a password (a passwd-file, plain scheme), and listens on two free ports: IMAPS (TLS from
the start) and IMAP (STARTTLS required before a password is accepted). Emails are put in the
mailbox over IMAP itself (APPEND), the way any client would.
"""

from __future__ import annotations

import datetime
import imaplib
import ipaddress
import os
import pwd
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.idp._process import (
    ServerProcess,
    ServerStartError,
    ServiceUnavailable,
    free_port,
    port_in_use_failure,
)

DOVECOT = "/usr/sbin/dovecot"
USER = "records"
PASSWORD = "mailbox-password-for-tests"


def dovecot_unavailable_reason() -> str | None:
    if not os.access(DOVECOT, os.X_OK):
        return (
            "Dovecot is not installed (Debian's dovecot-imapd: scripts/ensure-system-packages test)"
        )
    if os.geteuid() != 0:
        return "the test Dovecot runs as root (it drops to its own users)"
    try:
        pwd.getpwnam("dovenull")
        pwd.getpwnam("dovecot")
    except KeyError:
        return "Dovecot's system users are missing (reinstall dovecot-core)"
    return None


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate it signed (for localhost and 127.0.0.1)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Portal test mail CA"))
        .issuer_name(_name("Portal test mail CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class DovecotServer:
    folder: Path
    process: ServerProcess
    imaps_port: int
    imap_port: int
    ca_file: Path
    user: str = USER
    password: str = PASSWORD

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put an email in the mailbox, unread (IMAP APPEND)."""
        client = self.client()
        try:
            status, _ = client.append(folder, "", None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def unseen_count(self, folder: str = "INBOX") -> int:
        client = self.client()
        try:
            client.select(folder)
            _, data = client.uid("SEARCH", "UNSEEN")
            return len((data[0] or b"").split())
        finally:
            client.logout()

    def empty(self, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            client.select(folder)
            _, data = client.uid("SEARCH", "ALL")
            for uid in (data[0] or b"").split():
                client.uid("STORE", uid.decode(), "+FLAGS", "(\\Deleted)")
            client.expunge()
        finally:
            client.logout()

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _config(folder: Path, imaps: int, imap: int, cert: Path, key: Path) -> str:
    owner = pwd.getpwnam("dovecot")
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = {owner.pw_uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def start_dovecot(*, attempts: int = 3) -> DovecotServer:
    reason = dovecot_unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)
    owner = pwd.getpwnam("dovecot")
    for _attempt in range(attempts):
        # Not under pytest's private temp folder: Dovecot's login processes run as its own
        # unprivileged users, which must reach the run folder.
        folder = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
        folder.chmod(0o755)
        ca, cert, key = _write_certificates(folder)
        key.chmod(0o600)
        (folder / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        home = folder / "home" / USER
        home.mkdir(parents=True)
        for path in (folder / "home", home):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        imaps, imap = free_port(), free_port()
        conf = folder / "dovecot.conf"
        conf.write_text(_config(folder, imaps, imap, cert, key))
        process = ServerProcess("dovecot", [DOVECOT, "-F", "-c", str(conf)], folder)
        server = DovecotServer(folder, process, imaps, imap, ca)
        try:
            process.wait_until(lambda s=server: s.client().logout() is not None, what="IMAP logins")
        except ServerStartError as error:
            server.stop()
            if port_in_use_failure(error) and _attempt + 1 < attempts:
                continue
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover
