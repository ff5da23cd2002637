"""Services a production process talks to, started on this machine for one test: a private
redis-server speaking TLS only (as Heroku Data for Redis does, with a self-signed
certificate), and an SMTP server that keeps what it is sent."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import secrets
import socket
import socketserver
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.idp._process import ServiceUnavailable, _die_with_parent, free_port

REDIS_SERVER = Path("/usr/bin/redis-server")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "redis.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "redis.crt", folder / "redis.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def start_tls_redis(folder: Path) -> RedisServer:
    """redis-server on a free port of 127.0.0.1, TLS only, with a password, no persistence."""
    if not REDIS_SERVER.exists():
        raise ServiceUnavailable("redis-server not found (Debian: apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = _self_signed(folder)
    port, password = free_port(), secrets.token_hex(16)
    arguments = [
        *("--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"),
        *("--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-auth-clients", "no"),
        *("--requirepass", password, "--save", "", "--appendonly", "no", "--dir", str(folder)),
    ]
    process = subprocess.Popen(  # noqa: S603 (a fixed program, our own arguments)
        [str(REDIS_SERVER), *arguments],
        stdout=(folder / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    deadline = time.monotonic() + 15
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise ServiceUnavailable(
                "redis-server did not start: " + (folder / "redis.log").read_text()[-2000:]
            )
        time.sleep(0.05)
    return RedisServer(url=f"rediss://:{password}@127.0.0.1:{port}/0", process=process)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's client (no TLS, no authentication)."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 sink.test ESMTP")
        while line := self.rfile.readline(65536):
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-sink.test")
                self._reply("250 8BITMIME")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := self.rfile.readline(65536)) not in (b".\r\n", b".\n", b""):
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append(message_from_bytes(b"".join(lines)))  # type: ignore[attr-defined]
                self._reply("250 OK: queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[Message] = []


@dataclass
class SMTPSink:
    port: int
    server: _SMTPServer = field(repr=False)

    @property
    def messages(self) -> list[Message]:
        return list(self.server.messages)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_smtp_sink() -> SMTPSink:
    server = _SMTPServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return SMTPSink(port=server.server_address[1], server=server)
