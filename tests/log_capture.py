"""The logs of the whole test run, written as production writes them, and scanned for secrets
once the run ends (issue 11: "a test scans the logs of a full test run").

A pytest plugin (loaded by tests/conftest.py). At the start of the session a file handler
joins the root logger with production's JSON formatter and the console handler's own filters,
so every line any test makes the portal log (request and task lines, Django's, libraries')
lands in one file. Meanwhile the run's secrets are remembered as they are made: every
session key, password-reset token, signed value (download links, tracking links),
``secrets.token_urlsafe`` value (invitation and confirmation tokens) and password set, plus
the fixed test and demo passwords. When the session finishes, the file is scanned; a secret
found there fails the run (exit status 1) with the lines that hold it, and the file is kept.

Cost: one formatted line per log record and a linear scan at the end (about a second for a
full run); the registry only keeps strings.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Tokens are made of these characters (URL-safe base64, hex, and the colons of a signed
# value); a token is found as part of a run of them.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_:-]{16,}")
_WINDOW = 16  # every remembered token is at least this long; shorter strings are not kept
_PASSWORD_MIN = 12  # the portal's minimum: a shorter string is no password it accepts


@dataclass
class SecretRegistry:
    """What must never reach a log: tokens (matched inside token-character runs, so cheap
    to find among thousands) and passwords (any characters: searched as text)."""

    tokens: set[str] = field(default_factory=set)
    passwords: set[str] = field(default_factory=set)

    def token(self, value: object) -> None:
        if isinstance(value, str) and len(value) >= _WINDOW:
            self.tokens.add(value)

    def password(self, value: object) -> None:
        if isinstance(value, str) and len(value) >= _PASSWORD_MIN:
            self.passwords.add(value)


REGISTRY = SecretRegistry()


def find_secrets(lines: Iterable[str], registry: SecretRegistry) -> Iterator[tuple[int, str]]:
    """(line number, kind of secret) for every line that holds a remembered secret."""
    by_window: dict[str, list[str]] = {}
    for token in registry.tokens:
        by_window.setdefault(token[:_WINDOW], []).append(token)
    # A password as it appears inside a JSON string, too ("\\" and quotes escaped).
    passwords = {
        variant
        for password in registry.passwords
        for variant in (password, json.dumps(password)[1:-1])
    }
    for number, line in enumerate(lines, start=1):
        found = next((p for p in passwords if p in line), None)
        if found is not None:
            yield number, "a password"
            continue
        if _holds_token(line, by_window):
            yield number, "a token or session key"


def _holds_token(line: str, by_window: dict[str, list[str]]) -> bool:
    for run in _TOKEN_RUN.finditer(line):
        text = run.group()
        for start in range(len(text) - _WINDOW + 1):
            for token in by_window.get(text[start : start + _WINDOW], ()):
                if text.startswith(token, start):
                    return True
    return False


# --- Remembering secrets as the run makes them ---------------------------------------------


def _remembering(function, remember):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        remember(result)
        return result

    wrapper.__wrapped__ = function
    return wrapper


def _remember_passwords(original):
    def set_password(self, raw_password):
        REGISTRY.password(raw_password)
        return original(self, raw_password)

    return set_password


def _install_recorders() -> None:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.tokens import PasswordResetTokenGenerator
    from django.contrib.sessions.backends.base import SessionBase
    from django.core import signing

    from requests_portal.management.commands.seed_demo import DEMO_PASSWORD
    from tests.factories import TEST_PASSWORD

    REGISTRY.password(TEST_PASSWORD)
    REGISTRY.password(DEMO_PASSWORD)
    signing.dumps = _remembering(signing.dumps, REGISTRY.token)
    secrets.token_urlsafe = _remembering(secrets.token_urlsafe, REGISTRY.token)
    PasswordResetTokenGenerator.make_token = _remembering(
        PasswordResetTokenGenerator.make_token, REGISTRY.token
    )
    SessionBase._get_new_session_key = _remembering(
        SessionBase._get_new_session_key, REGISTRY.token
    )
    AbstractBaseUser.set_password = _remember_passwords(AbstractBaseUser.set_password)


# --- The handler -----------------------------------------------------------------------------


def _console() -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if h.name == "console"), None)


def _take_console_filters(handler: logging.Handler, console: logging.Handler) -> None:
    handler.filters = list(console.filters)


def production_like_handler(handler: logging.Handler) -> logging.Handler:
    """``handler`` with production's formatter and the console handler's filters."""
    from config.structured_logs import JsonFormatter

    console = _console()
    assert console is not None, "settings.LOGGING has no 'console' handler on the root logger"
    handler.setFormatter(JsonFormatter())
    _take_console_filters(handler, console)
    return handler


class _Capture:
    handler: logging.FileHandler | None = None
    path: Path | None = None


def pytest_sessionstart(session):
    if session.config.option.collectonly:
        return
    descriptor, name = tempfile.mkstemp(prefix="portal-test-logs-", suffix=".jsonl")
    os.close(descriptor)
    _Capture.path = Path(name)
    # Mode "a": a test that reconfigures logging (dictConfig closes every handler) does not
    # lose what was written; the autouse fixture below puts the handler back.
    _Capture.handler = production_like_handler(
        logging.FileHandler(name, mode="a", encoding="utf-8", delay=True)
    )
    logging.getLogger().addHandler(_Capture.handler)
    _install_recorders()


@pytest.fixture(autouse=True)
def _log_capture_attached():
    root = logging.getLogger()
    if _Capture.handler is not None and _Capture.handler not in root.handlers:
        root.addHandler(_Capture.handler)
    # A test that reconfigured logging (dictConfig) made a new console handler with new
    # filter objects: the capture keeps filtering exactly as the console does.
    console = _console()
    if _Capture.handler is not None and console is not None:
        _take_console_filters(_Capture.handler, console)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    handler, path = _Capture.handler, _Capture.path
    if handler is None or path is None:
        return
    logging.getLogger().removeHandler(handler)
    handler.close()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    leaks = list(find_secrets(lines, REGISTRY))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not leaks:
        path.unlink(missing_ok=True)
        if reporter is not None and session.config.option.verbose > 0:
            reporter.write_line(
                f"log scan: {len(lines)} log lines, {len(REGISTRY.tokens)} tokens and "
                f"{len(REGISTRY.passwords)} passwords checked, none found"
            )
        return
    if reporter is not None:
        reporter.line("")
        reporter.section("secrets in the logs", sep="=", red=True, bold=True)
        for number, kind in leaks[:20]:
            reporter.write_line(f"{path}:{number}: {kind}")
        reporter.write_line(
            f"FAILED: {len(leaks)} log line(s) hold a secret (the run fails even if every test "
            f"passed); the log is kept at {path}",
            red=True,
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- A fixture for tests of the logs themselves ------------------------------------------------


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@dataclass
class LogCapture:
    handler: _ListHandler

    @property
    def lines(self) -> list[str]:
        return self.handler.lines

    def entries(self, event: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in self.lines]
        return [e for e in parsed if event is None or e.get("event") == event]


@pytest.fixture
def json_logs():
    """Every log line of the test, as production writes it (JSON, console filters)."""
    handler = production_like_handler(_ListHandler())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield LogCapture(handler)
    finally:
        root.removeHandler(handler)
