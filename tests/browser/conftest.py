"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, against the portal
served by a live server thread on 127.0.0.1, under an agency committed for the test.

Why not pytest-django's ``live_server``: it needs ``transactional_db``, which empties every
table after the test with TRUNCATE. The app role the tests run as may not TRUNCATE (it owns
no table), and the audit table refuses TRUNCATE to anyone, so the flush fails and leaves the
test's rows behind. Instead the data the server must see is committed under an agency of the
test's own (a unique slug, as the other tests that commit do: tests/db_helpers.py); when the
test ends that agency is deactivated and its keys destroyed, so nothing it left can be
reached or read by a later test.

Services policy (as for slapd and the OpenID Connect provider): without /usr/bin/chromium,
Playwright or (for the accessibility checks) axe-core the tests skip, and fail when
REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread

from accounts.models import Agency, Role, User
from accounts.tenancy import agency_context
from documents import keys
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.idp.fixtures import service_unavailable

# Debian's package `chromium` (scripts/ensure-system-packages test installs it). Playwright's
# own browser download (`playwright install`) is never used.
CHROMIUM = Path("/usr/bin/chromium")
# axe-core, the accessibility checker the tests inject into pages: an npm package pinned by
# tests/browser/axe/package-lock.json, installed by scripts/ensure-system-packages test. A
# test tool only (MPL-2.0): the portal never serves it.
AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (each test opens its own context in it).
    Playwright passes --no-sandbox itself unless asked for the sandbox, which is what lets
    Chromium start as root.

    Not for the whole session: while Playwright's synchronous API is started, its asyncio
    loop counts as running on the test's thread, and Django would then refuse every ORM
    call of the tests that come after (see ``committed_db``)."""
    if not CHROMIUM.exists():
        service_unavailable(f"Chromium is not installed ({CHROMIUM} is missing)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("Playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """The path of axe.min.js, for ``page.add_script_tag(path=...)``."""
    if not AXE_SCRIPT.exists():
        service_unavailable(
            f"axe-core is not installed ({AXE_SCRIPT.relative_to(AXE_DIR.parents[2])} is"
            " missing): run scripts/ensure-system-packages test, or"
            " `npm ci --prefix tests/browser/axe`"
        )
    return AXE_SCRIPT


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker, monkeypatch) -> Iterator[None]:
    """Database access without the per-test transaction: the live server answers from its
    own threads and connections, so whatever it must see is committed.

    Playwright's synchronous API keeps an asyncio loop running on the test's thread. Django
    refuses ORM calls from such a thread unless told that no coroutine is involved, which
    is the case here: the loop only carries Playwright's messages. It also keeps the
    connections opened meanwhile apart from the thread's usual ones (per async context), so
    nothing else would close them, and the test database could not be dropped at the end:
    they are closed here."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            connections.close_all()


@dataclass
class BrowserAgency:
    agency: Agency
    staff: User
    host: str


@pytest.fixture
def browser_agency(committed_db) -> Iterator[BrowserAgency]:
    """An agency of this test's own with a staff member, committed; afterwards deactivated
    (its host answers 404) and crypto-shredded (its documents can never be read)."""
    slug = f"browser-{uuid.uuid4().hex[:10]}"
    agency = AgencyFactory(slug=slug, name="Browser Test Agency")
    with agency_context(agency):
        staff = UserFactory(email=f"staff@{slug}.test")
        MembershipFactory(agency=agency, user=staff, role=Role.STAFF)
    try:
        yield BrowserAgency(agency, staff, f"{slug}.{settings.PORTAL_BASE_DOMAIN}")
    finally:
        with agency_context(agency):
            keys.destroy_agency_keys(agency.pk)
        Agency.objects.filter(pk=agency.pk).update(is_active=False)


@dataclass(frozen=True)
class LiveServer:
    port: int

    def origin(self, host: str) -> str:
        """http://<agency host>:<port>. Chromium resolves every *.localhost name to the
        loopback address, and HostMiddleware ignores the port when it picks the agency."""
        return f"http://{host}:{self.port}"


@pytest.fixture
def portal_server(committed_db) -> Iterator[LiveServer]:
    """The portal (and its static files, upload.js among them) served by Django's threaded
    test server on 127.0.0.1 and a free port, with the test's settings (they are global,
    so e.g. a small DOCUMENT_CHUNK_SIZE set by the test applies to the server too). Each
    request runs in its own thread with its own database connection, closed after it."""
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    if not thread.is_ready.wait(timeout=30):
        raise RuntimeError("the live server did not start within 30 s")
    if thread.error:
        raise thread.error
    try:
        yield LiveServer(port=thread.port)
    finally:
        thread.terminate()


@pytest.fixture
def signed_in_context(chromium, portal_server, client_for) -> Iterator[Callable[..., object]]:
    """``make(user, host, javascript=True)``: a fresh browser context (cookies, storage) for
    the agency's address, signed in as ``user`` with the second factor passed.

    The session is made the way the test client's are (``client_for``: a real session row,
    the two-factor and recent-authentication marks a real sign-in leaves) and its cookie is
    handed to the browser: sign-in and two-factor have their own tests, and this keeps the
    browser tests about what happens after. Contexts close before the server stops."""
    contexts = []

    def make(user: User, host: str, *, javascript: bool = True):
        origin = portal_server.origin(host)
        client = client_for(user, host)
        name = settings.SESSION_COOKIE_NAME
        # A __Host- or __Secure- cookie (production settings) needs HTTPS; tests serve HTTP.
        assert not name.startswith("__"), f"{name} cannot be set on {origin}"
        context = chromium.new_context(base_url=origin, java_script_enabled=javascript)
        contexts.append(context)
        context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": origin}])
        return context

    yield make
    for context in contexts:
        context.close()


def pytest_terminal_summary(terminalreporter):
    """The journeys' moderate axe findings: they fail no test (serious and critical ones do),
    but they are printed so that someone sees them (tests/browser/journey.py)."""
    from tests.browser.journey import MODERATE, SCREENSHOTS, moderate_summary

    if not MODERATE:
        return
    terminalreporter.section("axe-core: moderate accessibility findings of the journeys")
    for line in moderate_summary(MODERATE):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"screenshots of the journeys: {SCREENSHOTS}")
