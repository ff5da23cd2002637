"""The self-scan's checks, each on its passed / findings / not-checked paths (issue 13):
check --deploy, the headers and cookies of a live answer of the portal (a live server
thread), pip-audit (a stand-in pip-audit and the real one against an unreachable service),
and the sweep of public documents for personal data."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread

from accounts.tenancy import agency_context
from documents.models import ReleaseLevel
from documents.release import document_release
from documents.selfscan_access import sweep
from ops.selfscan import FINDINGS, NOT_CHECKED, PASSED, dependencies, deploy, headers
from requests_portal.services import submission
from tests.documents.helpers import pdf_with_text, stored_document

SSN = "287-65-4321"


# --- check --deploy -----------------------------------------------------------------------


def test_check_deploy_reports_every_warning_of_the_running_settings(settings):
    settings.SECURE_HSTS_SECONDS = 0
    result = deploy.run()
    assert result.status == FINDINGS
    assert any(line.startswith("security.W004") for line in result.findings)


def test_check_deploy_passes_under_production_like_settings(settings):
    settings.DEBUG = False
    settings.SECURE_HSTS_SECONDS = 63072000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    result = deploy.run()
    assert result.status == PASSED, result.findings


# --- Headers and cookies of a live answer -------------------------------------------------


@contextmanager
def live_portal(settings) -> Iterator[None]:
    """The portal on a live server thread (started after the test's settings, as the
    middleware reads some at start), and PORTAL_SELF_URL pointing at it."""
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    assert thread.is_ready.wait(timeout=30), "the live server did not start"
    if thread.error:
        raise thread.error
    settings.PORTAL_SELF_URL = f"http://{settings.PORTAL_BASE_DOMAIN}:{thread.port}"
    try:
        yield
    finally:
        thread.terminate()
        connections.close_all()


@pytest.fixture
def server_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Database access for the server's own threads (the sign-in page needs no rows)."""
    with django_db_blocker.unblock():
        yield


def test_the_portal_s_own_headers_and_cookies_pass(settings, server_db):
    with live_portal(settings):
        result = headers.run()
    assert result.status == PASSED, result.findings
    # The anonymous sign-in page sets the CSRF cookie but not the session cookie.
    assert "flags were read from settings" in result.summary


def test_a_missing_policy_and_a_cookie_without_samesite_are_findings(settings, server_db):
    settings.CONTENT_SECURITY_POLICY = ""
    settings.CSRF_COOKIE_SAMESITE = None
    settings.SECURE_REFERRER_POLICY = None
    with live_portal(settings):
        result = headers.run()
    assert result.status == FINDINGS
    text = "\n".join(result.findings)
    assert "Content-Security-Policy missing" in text
    assert "Referrer-Policy" in text
    assert f"cookie {settings.CSRF_COOKIE_NAME}: SameSite" in text


def test_over_https_hsts_and_secure_cookies_are_required():
    answer = headers.Answer(200, _message({"Set-Cookie": "csrftoken=x; HttpOnly; SameSite=Lax"}))
    problems, _ = headers.problems_of(answer, https=True)
    assert any("Strict-Transport-Security" in p for p in problems)
    assert any("csrftoken: not Secure" in p for p in problems)


def _message(values: dict[str, str]):
    from http.client import HTTPMessage

    message = HTTPMessage()
    for name, value in values.items():
        message[name] = value
    return message


def test_an_unreachable_portal_is_not_checked_never_clean(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    settings.PORTAL_SELF_URL = f"http://127.0.0.1:{port}"
    result = headers.run()
    assert result.status == NOT_CHECKED
    assert "could not be reached" in result.summary


# --- The dependency audit -----------------------------------------------------------------


def _fake_pip_audit(tmp_path: Path, report: dict | None, exit_code: int) -> list[str]:
    script = tmp_path / "fake_pip_audit.py"
    output = json.dumps(report) if report is not None else ""
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            assert "--strict" in sys.argv and "-r" in sys.argv
            sys.stdout.write({output!r})
            if {report is None!r}:
                sys.stderr.write("ConnectionError: pypi.org unreachable\\n")
            sys.exit({exit_code})
            """
        )
    )
    return [sys.executable, str(script)]


def test_known_vulnerabilities_are_findings(settings, tmp_path):
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.0", "vulns": [
                {"id": "PYSEC-2099-1", "fix_versions": ["5.2.1"], "aliases": []}
            ]},
            {"name": "celery", "version": "5.7.0", "vulns": []},
        ],
        "fixes": [],
    }  # fmt: skip
    settings.SELF_SCAN = dict(settings.SELF_SCAN, pip_audit=_fake_pip_audit(tmp_path, report, 1))
    result = dependencies.run()
    assert result.status == FINDINGS
    assert result.findings == ["django 5.2.0: PYSEC-2099-1 (fixed in: 5.2.1)"]


def test_no_vulnerabilities_passes(settings, tmp_path):
    report = {"dependencies": [{"name": "celery", "version": "5.7.0", "vulns": []}]}
    settings.SELF_SCAN = dict(settings.SELF_SCAN, pip_audit=_fake_pip_audit(tmp_path, report, 0))
    assert dependencies.run().status == PASSED


def test_advisories_out_of_reach_are_not_checked(settings, tmp_path):
    settings.SELF_SCAN = dict(settings.SELF_SCAN, pip_audit=_fake_pip_audit(tmp_path, None, 1))
    result = dependencies.run()
    assert result.status == NOT_CHECKED
    assert "unreachable" in result.findings[0]


def test_pip_audit_missing_is_not_checked(settings):
    settings.SELF_SCAN = dict(settings.SELF_SCAN, pip_audit=[])
    assert dependencies.run().status == NOT_CHECKED
    settings.SELF_SCAN = dict(settings.SELF_SCAN, pip_audit=["/nonexistent/pip-audit"])
    assert dependencies.run().status == NOT_CHECKED


def test_the_real_pip_audit_is_installed_and_an_unreachable_service_is_not_clean(
    settings, monkeypatch
):
    """`make install` puts pip-audit in .venv-tools and the settings find it there; with its
    advisory service out of reach (every HTTPS connection sent to a closed port) the real
    pip-audit's answer is "not checked", never "clean"."""
    command = settings.SELF_SCAN["pip_audit"]
    assert command and command[0].endswith(".venv-tools/bin/pip-audit"), command
    assert Path(command[0]).is_file()
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    result = dependencies.run()
    assert result.status == NOT_CHECKED, result


# --- Public documents ---------------------------------------------------------------------


def _public_document(tenant, text: str):
    with agency_context(tenant.agency):
        records_request = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Payroll records",
            description="Payroll of the parks department.",
            contact=submission.Contact(name="Pat Public"),
            channel="web",
        )
    document = stored_document(records_request, pdf_with_text(text))
    with agency_context(tenant.agency):
        document_release(document=document, level=ReleaseLevel.PUBLIC, actor=tenant.publisher)
    return document


@pytest.mark.django_db
def test_a_public_document_with_an_ssn_is_a_finding_with_a_masked_excerpt(tenant):
    document = _public_document(tenant, f"Employee SSN: {SSN}")
    result = sweep()
    assert result.status == FINDINGS
    assert len(result.findings) == 1
    line = result.findings[0]
    assert tenant.agency.slug in line and str(document.public_id) in line and "ssn" in line
    assert SSN not in line and "287-65" not in line  # masked: never the value


@pytest.mark.django_db
def test_clean_public_documents_pass(tenant):
    _public_document(tenant, "Bridge inspection: all bolts tight")
    result = sweep()
    assert result.status == PASSED
    assert "1 public document" in result.summary
