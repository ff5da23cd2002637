"""The CI security gate's tools (tests/security, run by ``make test`` and ``make security``).

- bandit over the product code, configured in pyproject.toml ([tool.bandit]);
- semgrep with the portal's own rules (tests/security/semgrep/portal.yml), offline: no
  registry rules, no metrics, no version check;
- the check that every suppression of either names its rule and gives a reason.

Product code is every top-level package but the tests, benchmarks and scripts, and the
templates; migrations are left out (their SQL is the point of them).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = Path(__file__).resolve().parent / "semgrep" / "portal.yml"
NOT_PRODUCT = {"tests", "bench", "scripts", "docs", "locale", "static", "staticfiles"}
TIMEOUT = 180  # seconds; each tool takes well under a minute on this code base


def product_packages(root: Path = ROOT) -> list[Path]:
    """The top-level Python packages of the product (apps and config)."""
    return sorted(
        path
        for path in root.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name not in NOT_PRODUCT
        and (path / "__init__.py").exists()
    )


def product_targets(root: Path = ROOT) -> list[Path]:
    """What semgrep reads: the packages (their own templates included) and templates/."""
    return [*product_packages(root), root / "templates"]


def product_files(root: Path = ROOT) -> list[Path]:
    """Every product Python file and template, migrations left out."""
    files = []
    for target in product_targets(root):
        for pattern in ("*.py", "*.html"):
            files += [p for p in target.rglob(pattern) if "migrations" not in p.parts]
    return sorted(files)


def _tool(name: str) -> str:
    """A tool installed beside the interpreter running the tests (the project's venv)."""
    return str(Path(sys.executable).with_name(name))


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.rule} {self.message}".strip()


def run_bandit(*extra: Path) -> tuple[list[Finding], set[str]]:
    """bandit over the product code (and ``extra`` files): its findings, and the files it
    read (to prove what was scanned)."""
    result = subprocess.run(  # noqa: S603 (the venv's own bandit, fixed arguments)
        [_tool("bandit"), "-c", "pyproject.toml", "-f", "json", "-q", "-r", ".", *map(str, extra)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"bandit failed ({result.returncode}):\n{result.stderr[-4000:]}")
    report = json.loads(result.stdout)
    if report.get("errors"):
        raise RuntimeError(f"bandit could not read some files: {report['errors']}")
    findings = [
        Finding(
            issue["filename"].removeprefix("./"),
            issue["line_number"],
            issue["test_id"],
            f"({issue['issue_severity']}) {issue['issue_text']}",
        )
        for issue in report["results"]
    ]
    scanned = {name.removeprefix("./") for name in report["metrics"] if name != "_totals"}
    return sorted(findings), scanned


def run_semgrep(targets: list[Path]) -> tuple[list[Finding], set[str]]:
    """semgrep with the portal's rules over ``targets``: findings (rule ids without the
    config's path prefix) and the files it read."""
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    result = subprocess.run(  # noqa: S603 (the venv's own semgrep, fixed arguments)
        [_tool("semgrep"), "scan", "--config", str(RULES), "--json", "--quiet"]
        + ["--metrics", "off", "--disable-version-check", "--exclude", "migrations"]
        + [str(t) for t in targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if not result.stdout.strip():
        raise RuntimeError(f"semgrep failed ({result.returncode}):\n{result.stderr[-4000:]}")
    report = json.loads(result.stdout)
    if report.get("errors"):
        raise RuntimeError(f"semgrep reported errors: {report['errors']}")
    findings = [
        Finding(
            _relative(item["path"]),
            item["start"]["line"],
            item["check_id"].rsplit(".", 1)[-1],
            item["extra"]["message"].split(":")[0][:80],
        )
        for item in report["results"]
    ]
    scanned = {_relative(path) for path in report["paths"]["scanned"]}
    return sorted(set(findings)), scanned


def _relative(path: str) -> str:
    resolved = (ROOT / path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def rule_ids() -> set[str]:
    return set(re.findall(r"^  - id: ([\w-]+)$", RULES.read_text(), re.MULTILINE))


# --- Suppressions must say why -----------------------------------------------------------------
# bandit:  ... # nosec B603  # <reason>        (the reason after a second "#": bandit reads
#          every word after "nosec" as a test name, and the id keeps the others checked)
# semgrep: # nosemgrep: portal-raw-sql -- <reason>      (same line or the line before)
#          {# nosemgrep: portal-template-safe -- <reason> #}
_NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
_NOSEC_EXPLAINED = re.compile(r"^\s+B\d{3}(?:\s*,\s*B\d{3})*\s+#\s*(?P<reason>.+)$")
_NOSEMGREP = re.compile(r"\bnosem(?:grep)?\b(?P<rest>.*)$")
_NOSEMGREP_EXPLAINED = re.compile(
    r"^:\s*(?P<ids>[\w-]+(?:\s*,\s*[\w-]+)*)\s+--\s+(?P<reason>.+?)\s*(?:#\})?\s*$"
)
MIN_REASON_WORDS = 3


def _explained(reason: str) -> bool:
    return len(re.findall(r"[A-Za-z]{2,}", reason)) >= MIN_REASON_WORDS


def unexplained_suppressions(text: str, known_rules: set[str]) -> list[int]:
    """Lines of ``text`` with a nosec or nosemgrep that names no rule, an unknown rule, or
    gives no reason of at least three words."""
    bad = []
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _NOSEC.search(line):
            explained = _NOSEC_EXPLAINED.match(match["rest"])
            if not explained or not _explained(explained["reason"]):
                bad.append(number)
        if match := _NOSEMGREP.search(line):
            explained = _NOSEMGREP_EXPLAINED.match(match["rest"])
            ids = set(re.split(r"\s*,\s*", explained["ids"])) if explained else set()
            if not explained or not ids <= known_rules or not _explained(explained["reason"]):
                bad.append(number)
    return bad
