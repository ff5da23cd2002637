"""A local stand-in for the Pwned Passwords range API (api.pwnedpasswords.com/range/<prefix>).

A real HTTP server on 127.0.0.1, so the validator's whole path (httpx, timeouts, status
codes, parsing) runs as in production, without the test suite touching the internet.
Switch ``mode`` at runtime to make it fail the ways the real service can.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import pytest

Mode = Literal["ok", "error", "slow", "garbage", "empty"]

SEEDED_PASSWORDS = ("lemonandlime", "Tr0ub4dor&3-unique-ish", "password1234")
_PREFIX = re.compile(r"[0-9A-Fa-f]{5}")
PADDING_LINES = 40  # the real API pads to 800-1000 lines; a few dozen exercise the same path


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


class BreachApiServer:
    """The range protocol over a seeded corpus, on a free port, in a background thread.

    ``requests`` holds (path, headers) of every request received, so a test can check that
    only a 5-hex prefix ever left the process.
    """

    def __init__(
        self, passwords: Iterable[str] = SEEDED_PASSWORDS, *, slow_seconds: float = 3.0
    ) -> None:
        self.corpus: dict[str, int] = {}
        for count, password in enumerate(passwords, start=1):
            self.add(password, count=count * 1000)
        self.mode: Mode = "ok"
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        # Set on stop, so handlers sleeping in "slow" mode return at once instead of holding
        # the test run up.
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def add(self, password: str, *, count: int = 1) -> None:
        self.corpus[sha1_hex(password)] = count

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/range/"

    @property
    def prefixes(self) -> list[str]:
        with self._lock:
            return [path.rsplit("/", 1)[-1] for path, _headers in self.requests]

    def start(self) -> BreachApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BreachApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(self, prefix: str, padded: bool) -> str:
        """The body the real API would send for ``prefix``."""
        prefix = prefix.upper()
        lines = [
            f"{full[5:]}:{count}" for full, count in self.corpus.items() if full.startswith(prefix)
        ]
        if padded:
            lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(PADDING_LINES)]
        return "\r\n".join(lines)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((self.path, dict(self.headers.items())))
                    mode = server.mode
                if mode == "slow":
                    server._stopping.wait(server.slow_seconds)
                if mode == "error":
                    self._send(503, "Service Unavailable")
                    return
                if mode == "garbage":
                    self._send(200, "<!DOCTYPE html>\n<html><body>Please wait</body></html>\n")
                    return
                if mode == "empty":
                    self._send(200, "")
                    return
                head, _, prefix = self.path.rpartition("/")
                if head != "/range" or not _PREFIX.fullmatch(prefix):
                    self._send(400, "The hash prefix was not in a valid format")
                    return
                padded = self.headers.get("Add-Padding", "").lower() == "true"
                self._send(200, server.answer(prefix, padded))

            def _send(self, status: int, body: str) -> None:
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test): nothing left to tell it

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        return Handler


@pytest.fixture
def breach_api(settings) -> Iterator[BreachApiServer]:
    """A running range API seeded with SEEDED_PASSWORDS; the breach check points at it."""
    with BreachApiServer() as server:
        settings.PASSWORD_BREACH_API_URL = server.url
        settings.PASSWORD_BREACH_API_TIMEOUT = 0.3
        settings.PASSWORD_BREACH_ON_ERROR = "open"
        yield server
