"""A deliberately vulnerable little web site on 127.0.0.1, for proving that the scanners, run
exactly as the portal's tests run them, still find what they are there to find (as the
security gate runs bandit and semgrep on code planted for them): a scanner that stopped
working, or a report the tests stopped reading, would otherwise pass as "nothing found".

``/`` links to ``/search?q=council``, which puts ``q`` into SQL by string formatting (run on
the test database, its errors shown in a 500 page) and into the HTML unescaped. Nothing of
the portal is involved.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from django.db import connection, connections


@dataclass(frozen=True)
class Planted:
    port: int

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


def _matches(text: str) -> int:
    """The planted SQL injection: the visitor's text inside the query's quotes."""
    with connection.cursor() as cursor:
        cursor.execute(  # nosemgrep: portal-raw-sql -- planted flaw, for the scanners
            f"SELECT count(*) FROM pg_class WHERE relname = '{text}'"
        )
        return cursor.fetchone()[0]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/":
            return self._answer(200, '<a href="/search?q=council">Search</a>')
        if parts.path != "/search":
            return self._answer(404, "Not found")
        text = parse_qs(parts.query).get("q", [""])[0]
        try:
            count = _matches(text)
        except Exception as error:  # noqa: BLE001 (the planted flaw shows the database error)
            # Worded as PHP's PostgreSQL functions word it: wapiti's SQL module knows
            # errors only by such wordings (the portal never shows a database error).
            return self._answer(500, f"<pre>Warning: pg_query(): PostgreSQL ERROR: {error}</pre>")
        finally:
            connections.close_all()
        # The planted XSS: the visitor's text in the page as it came.
        return self._answer(200, f"<p>You searched for {text}</p><p>{count} tables.</p>")

    def _answer(self, status: int, html: str) -> None:
        body = f"<!doctype html><html><body>{html}</body></html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # the scanners' thousands of requests stay out of the test output


@contextmanager
def planted_site() -> Iterator[Planted]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Planted(port=server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
