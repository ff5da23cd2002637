"""Bad input, generated: schemathesis (from the tools environment, .venv-tools) runs every
operation of the committed schema against the portal served by a live server thread, as a
staff member with a token: no 5xx, no response outside the schema. Bounded: a few examples
per operation and a time budget.

Without .venv-tools the test skips locally and fails under REQUIRE_SERVICES=1 (CI). The
data the server reads is committed under an agency of this test's own, deactivated and
its keys destroyed at the end (as the browser tests do: tests/browser/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test.testcases import LiveServerThread

from accounts.models import Agency, Role
from accounts.tenancy import agency_context
from documents import keys
from requests_portal.services import agency_settings
from tests.api.helpers import file_as, make_token
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.idp.fixtures import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
# The tools environment `make install` creates; SCHEMATHESIS names another install of it.
SCHEMATHESIS = Path(os.environ.get("SCHEMATHESIS") or ROOT / ".venv-tools" / "bin" / "schemathesis")
SCHEMA = ROOT / "api" / "schema.yaml"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        slug = f"fuzz-{uuid.uuid4().hex[:10]}"
        agency = AgencyFactory(slug=slug, name="Fuzz Test Agency")
        with agency_context(agency):
            staff = UserFactory(email=f"admin@{slug}.test")
            MembershipFactory(agency=agency, user=staff, role=Role.ADMIN)
            agency_settings.agency_setup_defaults(agency=agency, state="CA")
        try:
            yield agency, staff, f"{slug}.{settings.PORTAL_BASE_DOMAIN}"
        finally:
            with agency_context(agency):
                keys.destroy_agency_keys(agency.pk)
            Agency.objects.filter(pk=agency.pk).update(is_active=False)
            connections.close_all()


def test_generated_bad_input_gets_no_server_error_and_no_off_schema_answer(committed, tmp_path):
    if not SCHEMATHESIS.exists():
        service_unavailable(
            f"schemathesis is not installed ({SCHEMATHESIS} is missing): make install"
        )
    agency, staff, host = committed

    class Tenant:  # what the helpers read
        pass

    tenant = Tenant()
    tenant.agency = agency
    file_as(tenant, staff, "Budget spreadsheets")
    _token, text = make_token(staff, agency)
    thread = LiveServerThread("127.0.0.1", lambda handler: handler, port=0)
    thread.daemon = True
    thread.start()
    assert thread.is_ready.wait(timeout=30), "the live server did not start"
    try:
        result = subprocess.run(  # noqa: S603 (the tools environment's CLI, fixed arguments)
            [
                str(SCHEMATHESIS),
                "run",
                str(SCHEMA),
                "--url",
                f"http://127.0.0.1:{thread.port}",
                "--header",
                f"Host: {host}",
                "--header",
                f"Authorization: Bearer {text}",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--max-examples",
                "5",
                "--max-time",
                "90",
                "--request-timeout",
                "20",
                "--workers",
                "1",
                "--seed",
                "14",
                "--no-shrink",
                "--exclude-path-regex",
                "/documents/download/",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,  # its cache (.schemathesis/) stays out of the checkout
            check=False,
        )
    finally:
        thread.terminate()
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
