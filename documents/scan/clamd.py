"""A client for clamd (ClamAV's daemon), optional: when ``settings.CLAMD_ADDRESS`` is set, the
scanner streams each file to it with the INSTREAM command (``ClamdStream``). The portal speaks
clamd's small protocol over a socket itself (TCP or a Unix socket)."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

KIB = 1024


class ClamdUnavailable(Exception):
    """clamd could not be reached, or did not answer in time."""


class ClamdError(Exception):
    """clamd answered with an error (its message, e.g. the stream size limit)."""


@dataclass(frozen=True)
class ClamdResult:
    infected: bool
    signature: str = ""


def _connect(address: str, timeout: float) -> socket.socket:
    """``host:port``, ``tcp://host:port``, ``[::1]:3310``, or a Unix socket path
    (``/run/clamd.sock`` or ``unix:/run/clamd.sock``)."""
    address = address.strip()
    try:
        if address.startswith(("/", "unix:")):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(address.removeprefix("unix:"))
            except BaseException:
                sock.close()
                raise
            return sock
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    except (OSError, ValueError) as error:
        raise ClamdUnavailable(f"clamd at {address} could not be reached ({error})") from None


class ClamdStream:
    """One INSTREAM scan: ``zINSTREAM\\0``, then chunks each prefixed with its length (4 bytes,
    big-endian), a zero length to finish; clamd answers ``stream: OK`` or
    ``stream: <signature> FOUND`` (or ``... ERROR``), NUL-terminated."""

    CHUNK = 64 * KIB

    def __init__(self, address: str, *, timeout: float = 60.0, connect_timeout: float = 5.0):
        self.address = address
        self.sock = _connect(address, connect_timeout)
        self.sock.settimeout(timeout)
        self.broken = False
        try:
            self.sock.sendall(b"zINSTREAM\x00")
        except OSError as error:
            self.close()
            raise ClamdUnavailable(f"clamd stopped answering ({error})") from None

    def send(self, data: bytes) -> None:
        if self.broken:
            return
        view = memoryview(data)
        try:
            for offset in range(0, len(view), self.CHUNK):
                piece = view[offset : offset + self.CHUNK]
                self.sock.sendall(struct.pack(">I", len(piece)) + bytes(piece))
        except TimeoutError:
            self.close()
            raise ClamdUnavailable("clamd did not answer in time") from None
        except OSError:
            # clamd closes the connection when the stream exceeds its limit; its answer
            # says so.
            self.broken = True

    def finish(self) -> ClamdResult:
        try:
            if not self.broken:
                # clamd may have closed the stream after the last chunk (it was over its size
                # limit); the answer it sent before closing says so.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.sock.sendall(b"\x00\x00\x00\x00")
            reply = bytearray()
            while b"\x00" not in reply and len(reply) < 4096:
                piece = self.sock.recv(4096)
                if not piece:
                    break
                reply += piece
        except TimeoutError:
            raise ClamdUnavailable("clamd did not answer in time") from None
        except OSError as error:
            raise ClamdUnavailable(f"clamd stopped answering ({error})") from None
        finally:
            self.close()
        return parse_reply(bytes(reply))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> ClamdStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_SIGNATURE = re.compile(r"[^A-Za-z0-9._:/+-]")


def parse_reply(reply: bytes) -> ClamdResult:
    text = reply.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
    if not text:
        raise ClamdUnavailable("clamd closed the connection without an answer")
    body = text.split(":", 1)[1].strip() if text.startswith("stream:") else text
    if body == "OK":
        return ClamdResult(infected=False)
    if body.endswith(" FOUND"):
        signature = _SIGNATURE.sub("_", body.removesuffix(" FOUND").strip())[:100]
        return ClamdResult(infected=True, signature=signature or "unknown")
    if body.endswith("ERROR"):
        raise ClamdError(_SIGNATURE.sub(" ", body.removesuffix("ERROR")).strip()[:120])
    raise ClamdError("unexpected answer from clamd")


def clamd_scan(address: str, chunks: Iterable[bytes], *, timeout: float = 60.0) -> ClamdResult:
    """Stream ``chunks`` to clamd and return its verdict."""
    with ClamdStream(address, timeout=timeout) as stream:
        for chunk in chunks:
            stream.send(chunk)
        return stream.finish()
