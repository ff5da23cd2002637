"""Issue 11's "done when", in Chromium: an agency admin reads their audit log, filters it,
downloads it for verification with the checker and the seal key the page hands out, and the
checker, run alone in a bare interpreter (as on the auditor's own computer), says it holds;
a changed line in the download is caught by the same command. It is also one of issue 16's
journeys: every page on the way is checked (tests/browser/journey.py: axe-core, a visible
focus, a screenshot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import agency_context
from requests_portal.services import submission as request_submission
from tests.browser.axe_check import DESKTOP
from tests.browser.journey import Journey
from tests.factories import MembershipFactory, UserFactory


def _check(folder: Path, export: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our interpreter; the checker the page handed out)
        [sys.executable, "-I", "verify_export.py", export, "--public-key", "key.pem"],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_admin_reads_filters_exports_and_verifies_the_log_offline(
    browser_agency, signed_in_context, tmp_path, axe_script
):
    agency = browser_agency.agency
    with agency_context(agency):
        admin = UserFactory(email=f"admin@{agency.slug}.test", full_name="Avery Admin")
        MembershipFactory(agency=agency, user=admin, role=Role.ADMIN)
        request_submission.request_submit(
            agency=agency,
            actor=None,
            title="Police overtime, 2025",
            description="Overtime paid per officer.",
            contact=request_submission.Contact(name="Jane Resident"),
            channel="web",
        )
    journey = Journey("admin audit log", axe_script)
    page = signed_in_context(admin, browser_agency.host).new_page()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.goto(reverse("staff:staff_dashboard"))
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**" + reverse("staff:audit_log"))
    page.reload()  # a page view is recorded once the page is made: the first shows now
    journey.step(page, "audit log")
    rows = page.locator("table tbody tr")
    assert rows.count() >= 2
    assert "Avery Admin" in rows.first.inner_text()  # their own visit, by name
    assert "filed request" in rows.last.inner_text()  # the oldest event

    # Filter to one kind of event: only those rows remain, and the download follows the filter.
    page.select_option("#id_action", "request.submitted")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**action=request.submitted**")
    assert rows.count() == 1
    assert "filed request" in rows.first.inner_text()
    journey.step(page, "audit log filtered")
    # One event's details.
    with page.expect_navigation():
        rows.first.get_by_role("link").first.click()
    journey.step(page, "audit event")
    page.go_back()
    # The filtered events as CSV, for a spreadsheet.
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download these events as CSV").click()
    csv_lines = csv_download.value.path().read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 2 and "request.submitted" in csv_lines[1], csv_lines

    call_command("audit_seal")  # the hourly seal, now, so the download carries one
    page.goto(reverse("staff:audit_log"))
    downloads = {
        "export.jsonl": "Download all for verification (JSON Lines)",
        "verify_export.py": "Download the checker (verify_export.py)",
        "key.pem": "the seal public key",
    }
    for filename, link in downloads.items():
        with page.expect_download() as download:
            page.get_by_role("link", name=link).click()
        download.value.save_as(tmp_path / filename)

    journey.step(page, "audit log with a seal")
    checked = _check(tmp_path, "export.jsonl")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK:" in checked.stdout and "seal(s)" in checked.stdout
    assert "not checked" not in checked.stdout

    lines = (tmp_path / "export.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[2])
    record["hashed"]["details"] = {"path": "/nothing-happened"}
    lines[2] = json.dumps(record)
    (tmp_path / "changed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    caught = _check(tmp_path, "changed.jsonl")
    assert caught.returncode == 1
    assert f"line 3: event {record['id']}" in caught.stdout
    journey.finish()
