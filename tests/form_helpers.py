"""Sending a page's form as a browser would: what its fields hold (hidden ones included:
the CSRF token, the one-time form token), so a test posts exactly what the page gave it."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from accounts import once


class _Forms(HTMLParser):
    """Every ``<form method="post">`` of a page: its action and the values a browser would
    send (inputs with a value, checked boxes, each select's chosen or first option,
    textareas). Buttons are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = None
            if a.get("method", "get").lower() == "post":
                self._form = {"action": a.get("action", ""), "fields": []}
                self.forms.append(self._form)
            return
        if self._form is None or ("name" not in a and tag != "option"):
            return
        fields = self._form["fields"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._select["options"].append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = a["name"]
            fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._form is not None and self._textarea is not None:
            name, value = self._form["fields"][-1]
            self._form["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            options = self._select["options"]
            chosen = [value for value, selected in options if selected]
            if not chosen and options and not self._select["multiple"]:
                chosen = [options[0][0]]
            self._form["fields"] += [(self._select["name"], value) for value in chosen]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_values(response, path: str, having: dict | None = None) -> dict[str, str | list[str]]:
    """The values of the page's one post form that posts to ``action`` (a path; a form
    without an action posts to the page's own) and whose fields include ``having``."""
    page = response.wsgi_request.path
    found = []
    for form in post_forms(response.content.decode()):
        target = urlsplit(form["action"]).path or page
        values: dict[str, list[str]] = {}
        for name, value in form["fields"]:
            values.setdefault(name, []).append(value)
        if target == path and all(values.get(k) == [v] for k, v in (having or {}).items()):
            found.append({k: v[0] if len(v) == 1 else v for k, v in values.items()})
    assert len(found) == 1, f"{len(found)} post forms to {path} {having} on {page}"
    return found[0]


def token_of(values: dict) -> str:
    token = values.get(once.FIELD)
    assert isinstance(token, str) and token, "the form has no one-time token"
    return token
