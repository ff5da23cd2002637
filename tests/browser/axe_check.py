"""axe-core run in a page of the live portal: the checker the browser tests share
(tests/browser/test_accessibility.py, test_spanish_resident.py). Not a test module, so the
tests can import it. ``Axe(axe_script)`` (the ``axe_script`` fixture of conftest.py), then
``check``/``visit`` pages and ``assert_clean``: serious and critical findings fail the test,
each named with its page, width, rule and elements. Moderate ones are kept in ``moderate``,
for the journeys to print (tests/browser/journey.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PHONE = (390, 844)
DESKTOP = (1280, 800)
NARROW = (320, 640)
# The widths every page is checked at; the pages residents fill in and staff work from on
# small phones get NARROW as well.
USUAL = (PHONE, DESKTOP)
ALL_WIDTHS = (NARROW, PHONE, DESKTOP)

RUN_AXE = """async () => await axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations"],
})"""
BLOCKING = ("critical", "serious")
REPORTED = ("moderate",)


@dataclass
class Finding:
    page: str
    width: int
    rule: str
    impact: str
    help: str
    help_url: str
    targets: list[str]


@dataclass
class Axe:
    """Runs axe-core in pages and keeps the serious and critical findings."""

    script: Path
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    moderate: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source = self.script.read_text()

    def check(self, page, name: str, sizes: Iterable[tuple[int, int]] = USUAL) -> None:
        """Checks the page as it is now at each size. The page is not loaded again: it reflows
        to the new width, which also lets a page reached by a form post be checked at every
        width."""
        for width, height in sizes:
            page.set_viewport_size({"width": width, "height": height})
            if not page.evaluate("() => typeof window.axe === 'object'"):
                # Evaluated by the DevTools protocol rather than added as a <script>: the
                # page's Content-Security-Policy (script-src 'self') refuses inline scripts,
                # and the page is checked with its real policy, not with one turned off.
                page.evaluate(self.source)
            result = page.evaluate(RUN_AXE)
            self.checked.append(f"{name} @{width}")
            for violation in result["violations"]:
                if violation["impact"] in BLOCKING:
                    kept = self.findings
                elif violation["impact"] in REPORTED:
                    kept = self.moderate
                else:
                    continue
                kept.append(
                    Finding(
                        page=name,
                        width=width,
                        rule=violation["id"],
                        impact=violation["impact"],
                        help=violation["help"],
                        help_url=violation["helpUrl"],
                        targets=[" ".join(map(str, node["target"])) for node in violation["nodes"]],
                    )
                )

    def visit(self, page, path: str, name: str, sizes=USUAL, *, status: int = 200) -> None:
        response = page.goto(path)
        assert response is not None and response.status == status, (name, path, response)
        self.check(page, name, sizes)

    def report(self) -> str:
        lines = [f"{len(self.findings)} serious or critical accessibility problems:"]
        for f in self.findings:
            lines.append(f"- {f.page} at {f.width} px: {f.rule} ({f.impact}) {f.help}")
            lines.append(f"    {f.help_url}")
            for target in f.targets[:8]:
                lines.append(f"    at {target}")
            if len(f.targets) > 8:
                lines.append(f"    ... and {len(f.targets) - 8} more elements")
        return "\n".join(lines)

    def assert_clean(self) -> None:
        assert self.checked, "no page was checked"
        if self.findings:
            pytest.fail(self.report(), pytrace=False)
