"""A journey through the portal in Chromium, checked at every step (issue 16): axe-core finds
no serious or critical problem on the page (the moderate ones are printed at the end of the
run), the first elements the Tab key reaches show where the focus is, and a screenshot of the
page is kept for a person to look at (SCREENSHOTS/<journey>/<nn>-<step>.png, git-ignored).

Not a test module: the journey tests (tests/browser/test_journey_*.py and the older browser
tests that walk a flow) import it. ``Journey(name, axe_script)``, then ``step(page, "what")``
on every page the journey reaches, and ``finish()`` at the end: it fails on every accessibility
or focus problem met on the way, each named with its page.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.axe_check import Axe, Finding

# Where people find the screenshots (README, "Browser journeys"); .local/ is git-ignored.
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"
# How many elements the focus check tabs through from the top of the page (the skip link, the
# header's and the main navigation's links) and from the top of <main> (the page's own links,
# buttons, fields and sections): the parts every page shares and the parts it does not.
FOCUS_STOPS = 4
FOCUS_FROM = ("body", "main")

# The moderate findings of every journey of the run, printed in the terminal summary
# (tests/browser/conftest.py): they do not fail a test, but someone should see them.
MODERATE: list[Finding] = []

# Runs in the page after each Tab: the element that has the focus, described for a failure
# message, and how its focus indicator is drawn. ``null`` once the focus has left the page.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el.id === "journey-focus-start") return null;
  el.setAttribute("data-journey-focus", String(window.journeyFocusCount++));
  const s = getComputedStyle(el);
  const name = (el.getAttribute("aria-label") || el.textContent || el.value || "").trim();
  return {
    index: el.getAttribute("data-journey-focus"),
    what: `<${el.tagName.toLowerCase()}${el.id ? " id=" + el.id : ""}> "${name.slice(0, 40)}"`,
    style: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(" | "),
    drawn: (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none",
  };
}"""

# Runs in the page before tabbing: a starting point Tab itself never stops at, put first in
# ``where`` (the body, or <main>), takes the focus, so the first Tab goes to the first element
# there whatever the journey focused before (the sequential navigation starting point follows
# the focus). False when the page has no such element.
FOCUS_FROM_TOP = """(where) => {
  const container = document.querySelector(where);
  if (!container) return false;
  window.journeyFocusCount = 0;
  for (const seen of document.querySelectorAll("[data-journey-focus]")) {
    seen.removeAttribute("data-journey-focus");
  }
  const start = document.createElement("span");
  start.id = "journey-focus-start";
  start.tabIndex = -1;
  container.prepend(start);
  start.focus();
  return true;
}"""

# Runs in the page after tabbing: the focus leaves, the starting point goes, and each element
# the focus visited tells how it is drawn without the focus.
UNFOCUSED = """() => {
  document.activeElement && document.activeElement.blur();
  document.getElementById("journey-focus-start")?.remove();
  const styles = {};
  document.querySelectorAll("[data-journey-focus]").forEach((el) => {
    const s = getComputedStyle(el);
    styles[el.getAttribute("data-journey-focus")] =
      [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(" | ");
    el.removeAttribute("data-journey-focus");
  });
  return styles;
}"""


# Runs in the page before its screenshot: images load now rather than when scrolled to
# (``loading="lazy"``), and the picture waits for them, up to a few seconds, so it shows the
# page a person would see (the redaction page's previews, for one).
IMAGES_LOADED = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.race([
    Promise.all(images.map((img) => img.decode().catch(() => null))),
    new Promise((resolve) => setTimeout(resolve, 5000)),
  ]);
}"""


def focus_problems(page, stops: int = FOCUS_STOPS) -> list[str]:
    """Tabs (the real key) through the first ``stops`` elements of the page and of its main
    part, and names each one whose focus is not visibly drawn: an outline or a shadow it has
    only while focused."""
    problems = []
    for where in FOCUS_FROM:
        if not page.evaluate(FOCUS_FROM_TOP, where):
            continue
        focused = []
        for _ in range(stops):
            page.keyboard.press("Tab")
            element = page.evaluate(FOCUSED)
            if element is None:
                break
            focused.append(element)
        unfocused = page.evaluate(UNFOCUSED)
        for element in focused:
            if not element["drawn"] or element["style"] == unfocused.get(element["index"]):
                problems.append(
                    f"{element['what']}: focused {element['style']!r},"
                    f" unfocused {unfocused.get(element['index'])!r}"
                )
        if not focused and where == "body":
            problems.append("the Tab key reaches nothing on the page")
    return problems


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Journey:
    """The checks of one journey. Each step checks the page at its current size (the journey
    chose the phone's or the desktop's); failures are collected, so one run shows them all."""

    name: str
    axe_script: Path
    axe: Axe = field(init=False)
    folder: Path = field(init=False)
    focus_failures: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.axe = Axe(self.axe_script)
        self.folder = SCREENSHOTS / slug(self.name)
        # Only this run's pictures: a step renamed or dropped leaves no stale file behind.
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)

    def step(self, page, step: str, *, focus: bool = True) -> Path:
        """Screenshot, axe-core and the focus check on the page as it is now; returns the
        screenshot's path."""
        size = page.viewport_size or {"width": 0, "height": 0}
        label = f"{step} ({self.name}, {size['width']} px)"
        path = self.folder / f"{len(self.steps) + 1:02d}-{slug(step)}.png"
        page.evaluate(IMAGES_LOADED)
        page.screenshot(path=path, full_page=True)
        self.axe.check(page, label, [(size["width"], size["height"])])
        if focus:
            self.focus_failures += [f"{label}: {p}" for p in focus_problems(page)]
        self.steps.append(step)
        return path

    def finish(self) -> None:
        """Fails with every serious or critical axe finding and every invisible focus met."""
        MODERATE.extend(self.axe.moderate)
        report = []
        if self.axe.findings:
            report.append(self.axe.report())
        if self.focus_failures:
            report.append(f"{len(self.focus_failures)} elements without a visible focus:")
            report += [f"- {failure}" for failure in self.focus_failures]
        if report:
            pytest.fail("\n".join(report), pytrace=False)
        assert self.steps, "the journey checked no page"


def moderate_summary(findings: list[Finding]) -> list[str]:
    """One line per moderate rule and page, for the terminal summary."""
    lines = []
    for f in findings:
        targets = ", ".join(f.targets[:3]) + (" ..." if len(f.targets) > 3 else "")
        lines.append(f"{f.page}: {f.rule} ({f.impact}) {f.help} at {targets}")
    return lines
