"""Running wapiti (Debian's package, scripts/ensure-system-packages test) against one agency's
host on the live server, and reading its JSON report and its session database.

Bounded by wapiti's own limits (scan time, time per attack module, crawl depth, links per
page, pages per folder, request timeout) and an external timeout around the whole run. It
connects to 127.0.0.1 and names the agency in the Host header: *.localhost names need not
resolve here, and the portal picks the agency from the host alone.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.idp.fixtures import service_unavailable

WAPITI = "wapiti"
MODULES = ("sql", "xss", "permanentxss", "exec", "file", "redirect", "crlf")
SCAN_TIME = 100  # seconds: wapiti's own bound (--max-scan-time)
ATTACK_TIME = 25  # seconds per module (--max-attack-time)
RUN_TIMEOUT = SCAN_TIME + 80  # the external bound: start-up, the report, a margin
# Anomalies that are findings: a server error is never acceptable. (Wapiti's other anomaly,
# "Resource consumption", is a slow answer: the shared machine's load, not the portal's.)
FAILING_ANOMALIES = ("Internal Server Error",)


@dataclass
class WapitiRun:
    output: str
    report: dict
    crawled: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    attacked: dict[str, int] = field(default_factory=dict)  # module: resources attacked

    def findings(self) -> list[str]:
        """Each vulnerability and failing anomaly: category, method, path, parameter, what
        wapiti says of it, and the request that carried the payload."""
        found = []
        for section, only in (("vulnerabilities", None), ("anomalies", FAILING_ANOMALIES)):
            for category, items in (self.report.get(section) or {}).items():
                if only is not None and category not in only:
                    continue
                for item in items:
                    found.append(
                        f"{category}: {item.get('method')} {item.get('path')} parameter "
                        f"{item.get('parameter')!r}: {item.get('info')}\n"
                        f"{item.get('http_request')}"
                    )
        return found


def _session_facts(session_dir: Path) -> tuple[list[tuple[str, str]], dict[str, int]]:
    databases = sorted(session_dir.glob("*.db"))
    if not databases:
        return [], {}
    with sqlite3.connect(databases[0]) as db:
        crawled = db.execute(
            "SELECT method, path FROM paths WHERE evil = 0 ORDER BY path_id"
        ).fetchall()
        attacked = dict(
            db.execute("SELECT module_name, COUNT(*) FROM attack_log GROUP BY module_name")
        )
    return [(m, p) for m, p in crawled], attacked


def run_wapiti(url: str, *, host: str, workdir: Path) -> WapitiRun:
    if shutil.which(WAPITI) is None:
        service_unavailable("wapiti is not installed: scripts/ensure-system-packages test")
    report = workdir / "wapiti.json"
    session_dir = workdir / "session"
    config_dir = workdir / "config"
    command = [
        WAPITI,
        "-u",
        url,
        "-H",
        f"Host: {host}",
        "--scope",
        "folder",
        "-m",
        ",".join(MODULES),
        "--level",
        "1",
        "--depth",
        "3",
        "--max-links-per-page",
        "40",
        "--max-files-per-dir",
        "30",
        "--max-scan-time",
        str(SCAN_TIME),
        "--max-attack-time",
        str(ATTACK_TIME),
        "--timeout",
        "15",
        "--flush-session",
        "--store-session",
        str(session_dir),
        "--store-config",
        str(config_dir),
        "--format",
        "json",
        "--output",
        str(report),
        "--no-bugreport",
        "--verbose",
        "1",
    ]
    try:
        result = subprocess.run(  # noqa: S603 (a fixed program, arguments built here)
            command,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            cwd=workdir,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"wapiti ran past {RUN_TIMEOUT} s on {host}: {str(exc.stdout or '')[-3000:]}"
        ) from exc
    output = result.stdout + result.stderr
    assert report.exists(), f"wapiti wrote no report (exit {result.returncode}):\n{output[-4000:]}"
    crawled, attacked = _session_facts(session_dir)
    return WapitiRun(output, json.loads(report.read_text()), crawled, attacked)
