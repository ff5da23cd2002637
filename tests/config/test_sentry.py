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
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import RequestFactory


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


def _send_through(port: int):
    sentry_sdk.init(dsn=f"http://public@127.0.0.1:{port}/1", **settings.SENTRY_OPTIONS)


@pytest.mark.urls("tests.config.sentry_urls")
def test_a_failing_view_reaches_sentry_without_secrets_or_document_text(
    ingest, tenant, client_for, settings
):
    """A real request (signed in, with session and CSRF cookies, a bearer header, a password
    and a document's text in the form, a download token in the path) fails in a view; the
    official client sends it to the local ingest server; none of those values arrive."""
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = client_for(tenant.staff, tenant.host)
    password = f"demo-{secrets.token_urlsafe(12)}"
    document_text = f"Medical record of Jane Q. Resident {secrets.randbelow(10**9):09d}"
    download_token = f"{secrets.token_urlsafe(60)}:1tA2bC:{secrets.token_urlsafe(32)}"
    stripe_key, webhook_secret = (
        f"sk_test_{secrets.token_hex(16)}",
        f"whsec_{secrets.token_hex(16)}",
    )
    csrf_token = secrets.token_hex(16)
    session_id = client.session.session_key
    assert session_id

    cookie = (
        f"{settings.SESSION_COOKIE_NAME}={session_id}; {settings.CSRF_COOKIE_NAME}={csrf_token}"
    )
    # Built as a WSGI request and answered by Django's WSGI handler, as in production: the
    # client's WSGI integration attaches the request (URL, headers, cookies) to the event.
    environ = (
        RequestFactory()
        .post(
            f"/documents/download/{download_token}/?key={stripe_key}",
            {
                "password": password,
                "text": document_text,
                "note": f"see {webhook_secret}",
                "csrfmiddlewaretoken": csrf_token,
            },
            HTTP_HOST=tenant.host,
            HTTP_COOKIE=cookie,
            HTTP_AUTHORIZATION=f"Bearer {stripe_key}",
            HTTP_X_CSRFTOKEN=csrf_token,
            HTTP_USER_AGENT="pytest",
        )
        .environ
    )
    statuses = []
    _send_through(ingest.server_address[1])
    # As Django's test client does: the test's database connection stays open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        b"".join(WSGIHandler()(environ, lambda status, headers: statuses.append(status)))
        sentry_sdk.flush(timeout=10)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        sentry_sdk.get_client().close()
        sentry_sdk.init()

    assert statuses and statuses[0].startswith("500")
    sent = b"".join(_Ingest.received)
    assert b"DocumentUnreadable" in sent  # the error itself is reported
    assert b"/documents/download/[Filtered]/" in sent  # and which page it was
    assert b"pytest" in sent  # the harmless headers are kept
    for value in (
        password,
        document_text,
        download_token,
        session_id,
        csrf_token,
        stripe_key,
        webhook_secret,
    ):
        assert value.encode() not in sent, value
    for part in download_token.split(":"):
        assert part.encode() not in sent
    assert document_text[-9:].encode() not in sent


def test_the_scrubber_removes_secrets_from_log_messages_and_breadcrumbs():
    from config.sentry_settings import scrub_breadcrumb, scrub_event

    token = f"{secrets.token_urlsafe(60)}:1tA2bC:{secrets.token_urlsafe(32)}"
    event = {
        "logentry": {"message": f"Internal Server Error: /documents/download/{token}/"},
        "extra": {"password": "hunter2hunter2", "sessionid": "abc", "note": "Bearer xyz.abc"},
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": "SELECT 1", "data": {"params": ["secret"]}},
                {"category": "httplib", "data": {"url": f"https://x/documents/download/{token}/"}},
            ]
        },
    }
    sent = repr(scrub_event(event, {}))
    assert token not in sent and "hunter2" not in sent and "xyz.abc" not in sent
    assert "'secret'" not in sent and "/documents/download/[Filtered]/" in sent
    crumb = scrub_breadcrumb({"message": "Cookie: __Host-sessionid=abcdef; x=1"}, {})
    assert "abcdef" not in crumb["message"]
