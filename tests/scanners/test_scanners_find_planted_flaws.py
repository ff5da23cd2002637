"""The scanners, run as the portal's scanner tests run them, find a planted SQL injection and
a planted XSS (tests/scanners/planted.py), and the failure they cause names the parameter and
the payload. Without this, a scanner that stopped working, or a report the tests stopped
reading, would pass as "nothing found".

Without sqlmap or wapiti the tests skip locally and fail under REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

import pytest

from tests.scanners.planted import planted_site
from tests.scanners.sqlmap import assert_not_injectable, run_sqlmap
from tests.scanners.wapiti import run_wapiti


@pytest.fixture
def planted(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), planted_site() as site:
        yield site


def test_sqlmap_finds_a_planted_injection_and_names_parameter_and_payload(planted, tmp_path):
    run = run_sqlmap(
        planted.url("/search?q=council"), host=planted.host, parameters=["q"], workdir=tmp_path
    )

    with pytest.raises(AssertionError) as failure:
        assert_not_injectable(run, "GET", ["q"])
    message = str(failure.value)
    assert "sqlmap found SQL injection" in message
    assert "GET parameter 'q'" in message and "payload: q=council'" in message


def test_wapiti_finds_planted_flaws_and_names_parameter_and_payload(planted, tmp_path):
    run = run_wapiti(planted.url("/"), host=planted.host, workdir=tmp_path, attack_time=20)

    findings = run.findings()
    xss = [f for f in findings if f.startswith("Cross Site Scripting")]
    sql = [f for f in findings if f.startswith("SQL Injection")]
    assert xss and sql, findings or run.output[-3000:]
    # The page and the parameter, then the request that carried the payload.
    for finding in (xss[0], sql[0]):
        assert "GET /search parameter 'q'" in finding and "/search?q=" in finding, finding
