"""A receiver of the portal's webhooks, as an agency's system would run one: a real HTTP
server on 127.0.0.1 in a thread, which checks every delivery's signature with the recipe
written in docs/webhooks.md (not with the portal's own code) and answers the status codes a
test queues (200 once the queue is empty)."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """docs/webhooks.md, "Checking a signature", step by step."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = parts.get("t", "")
    given = parts.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


@dataclass
class Receiver:
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    tls: ssl.SSLContext | None = None

    def __enter__(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = owner.answers.pop(0) if owner.answers else 200
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.received.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def url_by_name(self, path: str = "/hooks") -> str:
        return f"http://localhost:{self.server.server_address[1]}{path}"
