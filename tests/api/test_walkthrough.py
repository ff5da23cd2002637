"""The documented walk through the API (docs/examples/api_walkthrough.py), run as a separate
program over real HTTP against the portal served by a live server thread, with one staff
token and a real clamd scanning the upload: it files a request, follows and finds it, uploads
a document, waits for the scan, downloads the same bytes through a link and reads the
timeline. What it did is then checked in the database, as the agency would see it.

The data the server reads is committed under an agency of this test's own, deactivated and
its keys destroyed at the end (as tests/api/test_schemathesis.py does)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.test.testcases import LiveServerThread

from accounts.models import Agency, Role
from accounts.tenancy import agency_context
from api.tokens.services import token_revoke
from audit.models import AuditEvent
from documents import keys
from documents.models import Document, DocumentStatus
from requests_portal.models import RecordsRequest
from requests_portal.services import agency_settings
from tests.api.helpers import make_token
from tests.documents.clamd_server import ClamdServer, clamd_unavailable_reason, start_clamd
from tests.documents.helpers import pdf_with_text
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.idp.fixtures import service_unavailable

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "api_walkthrough.py"


@pytest.fixture
def clamd(tmp_path) -> Iterator[ClamdServer]:
    reason = clamd_unavailable_reason()
    if reason:
        service_unavailable(f"clamd (ClamAV) cannot run: {reason}")
    server = start_clamd(tmp_path / "clamd")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def site(django_db_setup, django_db_blocker, clamd, settings) -> Iterator[tuple]:
    """(agency, staff member, host, server port), committed, served over HTTP."""
    settings.CLAMD_ADDRESS = clamd.tcp_address
    with django_db_blocker.unblock():
        slug = f"walk-{uuid.uuid4().hex[:10]}"
        agency = AgencyFactory(slug=slug, name="Walkthrough Agency")
        with agency_context(agency):
            staff = UserFactory(email=f"clerk@{slug}.test")
            MembershipFactory(agency=agency, user=staff, role=Role.STAFF)
            agency_settings.agency_setup_defaults(agency=agency, state="CA")
        thread = LiveServerThread("127.0.0.1", lambda handler: handler, port=0)
        thread.daemon = True
        thread.start()
        assert thread.is_ready.wait(timeout=30), "the live server did not start"
        try:
            yield agency, staff, f"{slug}.{settings.PORTAL_BASE_DOMAIN}", thread.port
        finally:
            thread.terminate()
            with agency_context(agency):
                keys.destroy_agency_keys(agency.pk)
            Agency.objects.filter(pk=agency.pk).update(is_active=False)
            connections.close_all()


def _run(token: str, host: str, port: int, document: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter and the committed script)
        [
            sys.executable,
            str(SCRIPT),
            f"http://{host}",
            "--file",
            str(document),
            "--connect",
            f"127.0.0.1:{port}",
        ],
        env={"API_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_documented_walkthrough_runs_end_to_end_with_one_token(
    site, tmp_path, django_db_blocker
):
    agency, staff, host, port = site
    document = tmp_path / "contracts.pdf"
    document.write_bytes(pdf_with_text("Road repair contract, Main Street"))
    with django_db_blocker.unblock():
        _row, token = make_token(staff, agency)

    done = _run(token, host, port, document)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "still " in done.stdout  # the retry with the same key filed nothing new
    assert "found by search" in done.stdout
    assert "scanned: clean" in done.stdout
    assert ": identical" in done.stdout
    with django_db_blocker.unblock(), agency_context(agency):
        filed = RecordsRequest.objects.get(agency=agency)  # one request, though sent twice
        assert filed.number in done.stdout
        assert filed.requester_id == staff.pk
        stored = Document.objects.get(agency=agency, request=filed)
        assert stored.status == DocumentStatus.CLEAN
        assert stored.uploaded_by_id == staff.pk
        actions = set(AuditEvent.objects.filter(agency=agency).values_list("action", flat=True))
    assert {"request.submitted", "document.uploaded", "document.downloaded"} <= actions, actions
    # The timeline the script printed is the request's, with the filing in it.
    # Its line names the channel it came in by.
    assert "request received (api)" in done.stdout.split(": identical", 1)[1].lower()


def test_the_walkthrough_stops_with_the_apis_message_when_the_token_is_revoked(
    site, tmp_path, django_db_blocker
):
    agency, staff, host, port = site
    document = tmp_path / "notes.txt"
    document.write_text("Meeting notes")
    with django_db_blocker.unblock():
        row, token = make_token(staff, agency)
        with agency_context(agency):
            token_revoke(token=row, actor=staff)

    done = _run(token, host, port, document)

    assert done.returncode == 1
    assert "failed: POST /api/v1/requests/: 401" in done.stderr, done.stderr
    with django_db_blocker.unblock(), agency_context(agency):
        assert not RecordsRequest.objects.filter(agency=agency).exists()
