"""What reaches Sentry: the official client, configured with the portal's options, sends an
error to a local server standing in for Sentry's ingest API (Sentry itself cannot run here);
the test reads what arrived."""

from __future__ import annotations

import gzip
import secrets
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.conf import settings


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def ingest():
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _fail_holding(secret: str, plaintext: bytes):
    two_factor_key, document = secret, plaintext  # noqa: F841 (what Sentry could read)
    raise RuntimeError("the operation failed")


def test_errors_reach_sentry_without_the_values_of_local_variables(ingest):
    # Made at run time: the source lines Sentry sends for context must not contain them.
    secret = secrets.token_hex(20)
    plaintext = f"SSN {secrets.randbelow(10**9):09d} of Jane Q. Resident".encode()
    port = ingest.server_address[1]
    sentry_sdk.init(dsn=f"http://public@127.0.0.1:{port}/1", **settings.SENTRY_OPTIONS)
    try:
        try:
            _fail_holding(secret, plaintext)
        except RuntimeError as error:
            sentry_sdk.capture_exception(error)
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: nothing more is sent

    sent = b"".join(_Ingest.received)
    assert b"the operation failed" in sent and b"_fail_holding" in sent
    assert secret.encode() not in sent
    assert plaintext not in sent and plaintext[4:13] not in sent
