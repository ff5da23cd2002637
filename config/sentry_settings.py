"""What the portal sends to Sentry, and what it scrubs first (issue 13, monitoring).

The client is configured to leave out what it can (no default PII, no local variables, no
request bodies); ``scrub_event`` and ``scrub_breadcrumb`` then remove what is left of a
request that could open something: cookies (the session id, the CSRF token), every header but
a few harmless ones, query strings, form fields named like secrets, the signed token of a
document download link (``/documents/download/<token>/``), bearer credentials and Stripe keys
and webhook secrets wherever they occur in the event's text (messages, log lines, breadcrumbs,
URLs). The test: tests/config/test_sentry.py sends real events through the official client to
a local ingest server and reads what arrived.
"""

from __future__ import annotations

import re
from typing import Any

FILTERED = "[Filtered]"

# Headers kept in an event: nothing in them identifies a person or opens anything.
_KEPT_HEADERS = frozenset(
    {"accept", "accept-language", "content-type", "content-length", "user-agent"}
)

# A key containing any of these holds something no error report needs...
_SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "csrf",
    "session",
    "cookie",
    "authorization",
    "api_key",
    "apikey",
    "signature",
    "private_key",
    "plaintext",
    "whsec",
)
# ... and so does a key that is exactly one of these.
_SECRET_KEYS = frozenset({"body", "text", "content", "document", "otp", "totp", "code", "key"})

# Values recognised by their shape, wherever they occur in a string.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A document download link's signed token (the rest of the URL is useful).
    (re.compile(r"(/documents/download/)[^/\s?#\"']+"), r"\1" + FILTERED),
    # Any other long opaque path segment or query value (signed links, reset tokens, uuids
    # of downloads): kept short so a URL still shows which page it was.
    (
        re.compile(r"(?<=[=/:])(?=[A-Za-z_\-]*[0-9])[A-Za-z0-9_\-]{32,}(?::[A-Za-z0-9_\-]{6,})*"),
        FILTERED,
    ),
    # Stripe secret/restricted/publishable keys and webhook signing secrets.
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+"), FILTERED),
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), FILTERED),
    # Credentials in a header or log line.
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/\-]+=*"), r"\1 " + FILTERED),
    (
        re.compile(
            r"(?i)((?:__host-)?(?:sessionid|csrftoken|csrfmiddlewaretoken)[=:]\s*)[^;\s&,\"']+"
        ),
        r"\1" + FILTERED,
    ),
    (re.compile(r"(?i)(password[=:]\s*)[^;\s&,\"']+"), r"\1" + FILTERED),
)


def _secret_key(key: object) -> bool:
    name = str(key).lower().replace("-", "_")
    return name in _SECRET_KEYS or any(part in name for part in _SECRET_KEY_PARTS)


def scrub_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: FILTERED if _secret_key(key) and value[key] not in (None, "") else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    headers = request.get("headers") or {}
    kept = {
        name: scrub_text(str(value))
        for name, value in (headers.items() if isinstance(headers, dict) else headers)
        if str(name).lower() in _KEPT_HEADERS
    }
    return {
        "method": request.get("method"),
        "url": scrub_text(str(request.get("url", ""))),
        "headers": kept,
        # No cookies, query string, body or environment: any of them can open something.
    }


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: the event without anything that identifies or opens."""
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [
            crumb for crumb in map(_scrub_crumb, breadcrumbs.get("values") or []) if crumb
        ]
    request = event.pop("request", None)
    scrubbed = _scrub(event)
    if request is not None:
        scrubbed["request"] = request
    return scrubbed


def _scrub_crumb(crumb: dict[str, Any]) -> dict[str, Any]:
    crumb = dict(crumb)
    if crumb.get("category") in ("query", "redis"):
        # SQL parameters and cache keys can hold anything a row holds.
        crumb.pop("data", None)
    return _scrub(crumb)


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_breadcrumb."""
    return _scrub_crumb(crumb)


def sentry_options(environment: str) -> dict[str, Any]:
    return {
        # Keeps user emails, IPs, cookies and bodies out of Sentry.
        "send_default_pii": False,
        # Keeps the values of local variables out of stack traces: a frame can hold a
        # document's plaintext, a data key or a two-factor secret, under names no scrubber knows.
        "include_local_variables": False,
        # Request bodies (form fields, uploads, a document's text) are never attached.
        "max_request_body_size": "never",
        "before_send": scrub_event,
        "before_breadcrumb": scrub_breadcrumb,
        "environment": environment,
    }
