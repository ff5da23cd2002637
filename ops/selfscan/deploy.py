"""The check: Django's ``check --deploy`` under the running settings. Every warning or error
it reports (silenced ones left out, as the command does) is a finding."""

from __future__ import annotations

from django.core import checks

from ops.selfscan import CheckResult, found


def run() -> CheckResult:
    issues = [
        issue
        for issue in checks.run_checks(include_deployment_checks=True)
        if issue.level >= checks.WARNING and not issue.is_silenced()
    ]
    lines = [f"{issue.id or 'check'}: {issue.msg}".strip() for issue in issues]
    return found(
        "check --deploy reported nothing.",
        lines,
        f"check --deploy reported {len(lines)} issue{'s' if len(lines) != 1 else ''}.",
    )
