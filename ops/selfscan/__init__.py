"""The weekly self-scan (issue 13): the portal checks itself and reports to its operators.

Each check is a module of this package (or, for a check that needs a higher app, a module of
that app registered here from its ``AppConfig.ready()``: the sweep of public documents lives in
documents/selfscan_access.py). A check returns a :class:`CheckResult`; the runner
(ops/selfscan/services.py) runs them all, stores the run (ops.models.ScanRun), records a
platform audit event and tells the operators about anything that is not ``passed``.

Statuses: ``passed`` (looked, found nothing), ``findings`` (looked, found something),
``not_checked`` (could not look: a service unreachable, a tool missing; never counted as
clean) and ``error`` (the check itself broke).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PASSED = "passed"
FINDINGS = "findings"
NOT_CHECKED = "not_checked"
ERROR = "error"
STATUS_LABELS = {
    PASSED: "Passed",
    FINDINGS: "Findings",
    NOT_CHECKED: "Not checked",
    ERROR: "Error",
}
# The worst status wins when a run is summed up.
_SEVERITY = {PASSED: 0, NOT_CHECKED: 1, FINDINGS: 2, ERROR: 3}
MAX_FINDINGS = 200  # stored per check; the count keeps the total


@dataclass
class CheckResult:
    status: str
    summary: str
    findings: list[str] = field(default_factory=list)
    total: int = 0  # findings in all (more than listed when over MAX_FINDINGS)

    def as_dict(self, name: str, label: str) -> dict[str, object]:
        return {
            "name": name,
            "label": label,
            "status": self.status,
            "summary": self.summary,
            "findings": self.findings[:MAX_FINDINGS],
            "total": max(self.total, len(self.findings)),
        }


def found(summary_clean: str, findings: list[str], summary_found: str) -> CheckResult:
    """``passed`` with ``summary_clean`` when ``findings`` is empty, else ``findings``."""
    if not findings:
        return CheckResult(PASSED, summary_clean)
    return CheckResult(FINDINGS, summary_found, findings, len(findings))


def worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: _SEVERITY.get(s, 3), default=PASSED)


@dataclass(frozen=True)
class Check:
    name: str
    label: str
    run: Callable[[], CheckResult]


_checks: dict[str, Check] = {}


def register(name: str, label: str, run: Callable[[], CheckResult]) -> None:
    """Add a check (by a name unique in the scan); the runner runs them in this order."""
    _checks[name] = Check(name, label, run)


def checks() -> list[Check]:
    return list(_checks.values())
