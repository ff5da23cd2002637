"""The check: the security headers and cookie flags of a live answer of the portal itself.

It requests the sign-in page of the platform's own address (settings.PORTAL_SELF_URL), the
way a browser would, and looks at what came back: HSTS (over HTTPS), a Content-Security-Policy,
X-Content-Type-Options, Referrer-Policy, framing refused (CSP frame-ancestors or
X-Frame-Options), and the flags of the cookies it sets (Secure over HTTPS, HttpOnly,
SameSite). The session cookie is only set once someone signs in: when the page sets none, its
flags are read from the settings instead, and the result says so.

A portal that cannot be reached (or answers an error) was not checked: ``not_checked``."""

from __future__ import annotations

import http.client
import ssl
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from django.conf import settings

from ops.selfscan import NOT_CHECKED, CheckResult, found

PATH = "/accounts/login/"
TIMEOUT = 20  # seconds
HSTS_MINIMUM = 31536000  # one year, as check --deploy and the preload list ask
_WEAK_REFERRERS = {"unsafe-url", "no-referrer-when-downgrade", ""}


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage) -> None:
        self.status = status
        self.headers = headers

    def header(self, name: str) -> str:
        return (self.headers.get(name) or "").strip()

    def cookies(self) -> dict[str, dict[str, str]]:
        jar: dict[str, dict[str, str]] = {}
        for line in self.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(line)
            except CookieError:
                continue
            for name, morsel in cookie.items():
                flags = {key.lower(): str(value) for key, value in morsel.items() if value}
                # A flag without a value (``Secure``) loads as True.
                jar[name] = flags
        return jar


def fetch(url: str) -> Answer:
    """GET ``url`` without following redirects (raises OSError when it can't be reached)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, parts.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=TIMEOUT)
    try:
        connection.request("GET", parts.path or "/", headers={"User-Agent": "portal-self-scan"})
        response = connection.getresponse()
        response.read()
        return Answer(response.status, response.headers)
    finally:
        connection.close()


def _cookie_problems(
    name: str, flags: dict[str, str] | None, *, https: bool, http_only: bool
) -> list[str]:
    """What is wrong with one cookie's flags (``flags`` as set, or None: read from settings)."""
    problems = []
    if flags is None:  # not set on the page: the settings Django will use
        prefix = "SESSION" if name == settings.SESSION_COOKIE_NAME else "CSRF"
        flags = {}
        if getattr(settings, f"{prefix}_COOKIE_SECURE", False):
            flags["secure"] = "True"
        if getattr(settings, f"{prefix}_COOKIE_HTTPONLY", False):
            flags["httponly"] = "True"
        flags["samesite"] = str(getattr(settings, f"{prefix}_COOKIE_SAMESITE", "") or "")
    if https and not flags.get("secure"):
        problems.append(f"cookie {name}: not Secure")
    if http_only and not flags.get("httponly"):
        problems.append(f"cookie {name}: not HttpOnly")
    if flags.get("samesite", "").lower() not in ("lax", "strict"):
        problems.append(f"cookie {name}: SameSite is not Lax or Strict")
    return problems


def problems_of(answer: Answer, *, https: bool) -> tuple[list[str], list[str]]:
    """(problems, notes) of one answer."""
    problems: list[str] = []
    notes: list[str] = []
    if https:
        hsts = answer.header("Strict-Transport-Security").lower()
        age = 0
        for part in hsts.split(";"):
            key, _, value = part.strip().partition("=")
            if key == "max-age" and value.strip().isdigit():
                age = int(value.strip())
        if age < HSTS_MINIMUM:
            problems.append("Strict-Transport-Security missing or max-age under one year")
    csp = answer.header("Content-Security-Policy")
    if not csp:
        problems.append("Content-Security-Policy missing")
    elif "default-src" not in csp:
        problems.append("Content-Security-Policy has no default-src")
    if answer.header("X-Content-Type-Options").lower() != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if answer.header("Referrer-Policy").lower() in _WEAK_REFERRERS:
        problems.append("Referrer-Policy missing or leaks full addresses")
    framing = answer.header("X-Frame-Options").upper()
    if "frame-ancestors" not in csp and framing not in ("DENY", "SAMEORIGIN"):
        problems.append("framing allowed (no CSP frame-ancestors, no X-Frame-Options)")
    cookies = answer.cookies()
    for name, http_only in (
        (settings.SESSION_COOKIE_NAME, True),
        (settings.CSRF_COOKIE_NAME, bool(settings.CSRF_COOKIE_HTTPONLY)),
    ):
        flags = cookies.get(name)
        if flags is None:
            notes.append(f"cookie {name} not set by the page: its flags were read from settings")
        problems.extend(_cookie_problems(name, flags, https=https, http_only=http_only))
    return problems, notes


def run() -> CheckResult:
    url = settings.PORTAL_SELF_URL.rstrip("/") + PATH
    try:
        answer = fetch(url)
    except (OSError, http.client.HTTPException) as error:
        return CheckResult(
            NOT_CHECKED,
            f"The portal could not be reached at {url}: headers not checked.",
            [f"{type(error).__name__}: {error}"[:300]],
        )
    if answer.status != 200:
        return CheckResult(
            NOT_CHECKED, f"The portal answered HTTP {answer.status} at {url}: headers not checked."
        )
    problems, notes = problems_of(answer, https=url.startswith("https://"))
    result = found(
        f"Security headers and cookie flags of {url} are as they should be.",
        problems,
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''} with the headers or"
        f" cookies of {url}.",
    )
    if notes:
        result.summary += " " + "; ".join(notes) + "."
    return result
