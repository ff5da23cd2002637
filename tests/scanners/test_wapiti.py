"""wapiti, a black-box web scanner, crawls each agency's host of the live portal as a
visitor and attacks every link and form it finds with its SQL, XSS (reflected and stored),
command execution, file inclusion, open redirect and CRLF modules: no vulnerability, and no
payload may meet a server error. Each failure names the page, the parameter and the request
that carried the payload.

Without wapiti the tests skip locally and fail under REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

import pytest

from tests.scanners.wapiti import MODULES, run_wapiti

# Seconds per attack module. Agency A gets the long pass; B, whose pages are the same code
# under another host and other data, a shorter one: together they stay within the suite's
# budget on a loaded two-core machine (the command, file and XSS modules use all of theirs).
ATTACK_TIME = {"a": 45, "b": 20}


@pytest.mark.parametrize("side", ["a", "b"])
def test_wapiti_finds_nothing_on_an_agency_host(target, tmp_path, side):
    agency = getattr(target, side)

    run = run_wapiti(
        target.url("/"),
        host=target.host_header(agency),
        workdir=tmp_path,
        attack_time=ATTACK_TIME[side],
    )

    findings = run.findings()
    assert not findings, "wapiti found:\n\n" + "\n\n".join(findings)
    # It reached the agency's pages: the request form (a form it attacked) and the archive.
    paths = {path for _method, path in run.crawled}
    assert any("/requests/new/" in p for p in paths), (sorted(paths), run.output[-3000:])
    assert any("/archive/" in p for p in paths), sorted(paths)
    # Every module ran and attacked something (begun, as its log shows, or finished, as its
    # session records); the SQL module, quick, finished the request form itself.
    launched = run.launched()
    attacked = {m for m in MODULES if launched.get(m) or run.attacked.get(m)}
    assert set(launched) >= set(MODULES) and attacked == set(MODULES), (
        launched,
        run.output[-3000:],
    )
    sql = run.attacked.get("sql", set())
    assert any(m == "POST" and "/requests/new/" in p for m, p in sql), sorted(sql)
