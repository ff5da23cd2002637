"""Fetching a page of the live server as a scanner would (plain HTTP on 127.0.0.1, the
agency in the Host header), and reading a form's fields and the cookies it came with."""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Page:
    status: int
    body: str
    cookies: dict[str, str] = field(default_factory=dict)
    location: str = ""

    def cookie_header(self, *extra: str) -> str:
        return "; ".join([*(f"{k}={v}" for k, v in self.cookies.items()), *extra])


def fetch(
    port: int, host: str, path: str, *, cookie: str = "", method="GET", body: str = ""
) -> Page:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host}
    if cookie:
        headers["Cookie"] = cookie
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return Page(response.status, text, cookies, response.headers.get("Location", ""))
    finally:
        connection.close()


class _FormFields(HTMLParser):
    """Name and value of each field of the form with the id ``form_id``, as a browser would
    send it untouched (the first option of a select, checked boxes only)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and self._select not in self.fields:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(page: Page, form_id: str) -> dict[str, str]:
    parser = _FormFields(form_id)
    parser.feed(page.body)
    assert parser.fields, f"no form #{form_id} on the page:\n{page.body[:2000]}"
    return parser.fields
