"""The scanners' target: the portal served by a live server thread on 127.0.0.1, with two
agencies of the test's own holding public, restricted and closed requests in a department,
and a staff member of the first agency with a signed-in session (two-factor passed).

The data the server reads is committed, as in the browser tests (tests/browser/conftest.py
says why pytest-django's ``live_server`` cannot be used); when the test ends both agencies
are deactivated and their keys destroyed, so whatever the scanners filed is unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test import Client
from django.test.testcases import LiveServerThread

from accounts.models import Agency, Role, User
from accounts.tenancy import agency_context
from documents import keys
from requests_portal.models import Department, Visibility
from requests_portal.services import agency_settings
from tests.conftest import mark_fully_signed_in
from tests.factories import AgencyFactory, DepartmentFactory, MembershipFactory, UserFactory
from tests.requests_portal.helpers import file_request

# One address sends everything a scanner sends: the per-address and per-email limits would
# answer 429 after a few dozen posts, and a scanner that only ever sees 429 proves nothing.
# The limits have their own tests (tests/requests_portal/test_submission_limits.py).
UNLIMITED = "1000000/m"
RATE_SETTINGS = (
    "REQUEST_SUBMIT_RATE_PER_IP",
    "REQUEST_SUBMIT_RATE_PER_EMAIL",
    "RATE_LIMIT_LOGIN_PER_IP",
    "RATE_LIMIT_RESET_PER_IP",
    "RATE_LIMIT_RESET_PER_EMAIL",
    "RATE_LIMIT_SIGNUP_PER_IP",
)


@dataclass
class ScanAgency:
    agency: Agency
    staff: User
    department: Department
    host: str


@dataclass
class ScanTarget:
    port: int
    a: ScanAgency
    b: ScanAgency

    def url(self, path: str = "/") -> str:
        """The address scanners connect to; the agency comes from the Host header they send
        (``host_header``), since *.localhost names need not resolve on this machine."""
        return f"http://127.0.0.1:{self.port}{path}"

    def host_header(self, side: ScanAgency) -> str:
        return f"{side.host}:{self.port}"

    def staff_cookie(self) -> str:
        """``name=value`` of a session of agency A's staff member, fully signed in: made as
        the test client's are (a real session row, the marks a sign-in with two-factor
        leaves), as the browser tests do (``signed_in_context``)."""
        client = Client(HTTP_HOST=self.a.host)
        client.force_login(self.a.staff)
        mark_fully_signed_in(client)
        name = settings.SESSION_COOKIE_NAME
        return f"{name}={client.cookies[name].value}"


def _make_agency(slug: str) -> ScanAgency:
    agency = AgencyFactory(slug=slug, name=f"Scan {slug[-1].upper()} Agency")
    with agency_context(agency):
        agency_settings.agency_setup_defaults(agency=agency, state="CA")
        staff = UserFactory(email=f"staff@{slug}.test")
        MembershipFactory(agency=agency, user=staff, role=Role.STAFF)
        department = DepartmentFactory(agency=agency, name="Clerk")
    side = ScanAgency(agency, staff, department, f"{slug}.{settings.PORTAL_BASE_DOMAIN}")
    for title, visibility in (
        ("Council minutes 2025", Visibility.PUBLISHED),
        ("Road repair contracts", Visibility.PUBLISHED),
        ("Police overtime records", Visibility.RESTRICTED),
        ("Park budget spreadsheets", Visibility.ALL_STAFF),
    ):
        file_request(
            side,
            title=title,
            description=f"{title}: every page, please.",
            visibility=visibility,
            department=department,
            email="resident@example.com",
            name="Rita Resident",
        )
    return side


@contextmanager
def scan_target() -> Iterator[ScanTarget]:
    """Both agencies and the server. Call with database access unblocked, outside a
    transaction (the server's threads read what is committed)."""
    stem = f"scan-{uuid.uuid4().hex[:8]}"
    a, b = _make_agency(f"{stem}-a"), _make_agency(f"{stem}-b")
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    try:
        if not thread.is_ready.wait(timeout=30):
            raise RuntimeError("the live server did not start within 30 s")
        if thread.error:
            raise thread.error
        yield ScanTarget(port=thread.port, a=a, b=b)
    finally:
        thread.terminate()
        for side in (a, b):
            with agency_context(side.agency):
                keys.destroy_agency_keys(side.agency.pk)
            Agency.objects.filter(pk=side.agency.pk).update(is_active=False)
        connections.close_all()
