"""The check: ``pip-audit --strict`` over the lock file (requirements.txt), the advisories of
PyPI's database. Installed packages are never touched: the lock's exact pins and hashes are
audited as written (``--disable-pip``).

When pip-audit cannot reach its advisory service (no network, the service down) or is not
installed, nothing was checked: the result is ``not_checked``, never ``passed``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from django.conf import settings

from ops.selfscan import NOT_CHECKED, CheckResult, found

TIMEOUT = 600  # seconds


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def run() -> CheckResult:
    command = list(settings.SELF_SCAN["pip_audit"])
    requirements = Path(settings.SELF_SCAN["requirements"])
    if not command:
        return CheckResult(NOT_CHECKED, "pip-audit is not installed: dependencies not checked.")
    if not requirements.is_file():
        return CheckResult(NOT_CHECKED, f"The lock file {requirements.name} is missing.")
    args = [
        *command,
        "--strict",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "-r",
        str(requirements),
    ]
    try:
        done = subprocess.run(  # noqa: S603  # nosec B603  # the configured pip-audit, argument list, no shell
            args, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except FileNotFoundError:
        return CheckResult(NOT_CHECKED, "pip-audit is not installed: dependencies not checked.")
    except subprocess.TimeoutExpired:
        return CheckResult(NOT_CHECKED, f"pip-audit did not finish within {TIMEOUT} s.")
    try:
        report = json.loads(done.stdout) if done.returncode in (0, 1) else None
    except ValueError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        why = _last_line(done.stderr) or f"exit status {done.returncode}"
        return CheckResult(
            NOT_CHECKED,
            "The advisory data could not be reached or read: dependencies not checked.",
            [f"pip-audit: {why}"],
        )
    lines = []
    for dependency in report["dependencies"]:
        for vuln in dependency.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            lines.append(
                f"{dependency.get('name')} {dependency.get('version')}: {vuln.get('id')}"
                f" (fixed in: {fixes})"
            )
    count = len(report["dependencies"])
    return found(
        f"No known vulnerabilities in the {count} locked packages.",
        lines,
        f"{len(lines)} known vulnerabilit{'ies' if len(lines) != 1 else 'y'} in the locked"
        " packages.",
    )
