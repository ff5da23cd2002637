"""Running wapiti (Debian's package, scripts/ensure-system-packages test) against one agency's
host on the live server, and reading its JSON report and its session database.

Bounded by wapiti's own limits (scan time, time per attack module, crawl depth, links per
page, pages per folder, request timeout) and an external timeout around the whole run. It
connects to 127.0.0.1 and names the agency in the Host header: *.localhost names need not
resolve here, and the portal picks the agency from the host alone.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tests.idp.fixtures import service_unavailable

WAPITI = "wapiti"
MODULES = ("sql", "xss", "permanentxss", "exec", "file", "redirect", "crlf")
SCAN_TIME = 240  # seconds: wapiti's own bound on the whole scan (--max-scan-time)
RUN_TIMEOUT = SCAN_TIME + 60  # the external bound: start-up, the report, a margin
# Anomalies that are findings: a server error is never acceptable. (Wapiti's other anomaly,
# "Resource consumption", is a slow answer: the shared machine's load, not the portal's.)
FAILING_ANOMALIES = ("Internal Server Error",)


@dataclass
class WapitiRun:
    output: str
    report: dict
    crawled: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    # module: the (method, path) of each resource it finished attacking
    attacked: dict[str, set] = field(default_factory=dict)

    def launched(self) -> dict[str, int]:
        """Each module wapiti launched: how many resources it began to attack (the session
        database counts only those it finished, and a module stopped by its time limit
        finishes few)."""
        counts = {}
        for part in self.output.split("[*] Launching module ")[1:]:
            name, _, rest = part.partition("\n")
            counts[name.strip()] = sum(1 for line in rest.splitlines() if line.startswith("[+] "))
        return counts

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


def _session_facts(session_dir: Path) -> tuple[list[tuple[str, str]], dict[str, set]]:
    databases = sorted(session_dir.glob("*.db"))
    if not databases:
        return [], {}
    with closing(sqlite3.connect(databases[0])) as db:  # (its own `with` does not close)
        crawled = db.execute(
            "SELECT method, path FROM paths WHERE evil = 0 ORDER BY path_id"
        ).fetchall()
        attacked: dict[str, set] = {}
        for module, method, path in db.execute(
            "SELECT a.module_name, p.method, p.path FROM attack_log a"
            " JOIN paths p ON p.path_id = a.path_id"
        ):
            attacked.setdefault(module, set()).add((method, path))
    return [(m, p) for m, p in crawled], attacked


def run_wapiti(url: str, *, host: str, workdir: Path, attack_time: int) -> WapitiRun:
    """``attack_time``: seconds per module (--max-attack-time)."""
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
        # Each resource once: a link or form with the same path and parameter names as one
        # already crawled is skipped ("paranoid"). Without it the language switch, a form on
        # every page carrying the page's own address, is crawled and attacked once per page.
        "--scan-force",
        "paranoid",
        "--depth",
        "3",
        "--max-links-per-page",
        "40",
        "--max-files-per-dir",
        "30",
        "--max-scan-time",
        str(SCAN_TIME),
        "--max-attack-time",
        str(attack_time),
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
    # Loopback only: wapiti loads every module, and one of them (wapp) would download its
    # database from the web; through a proxy that is not there the attempt fails at once.
    environment = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1",
    }
    try:
        result = subprocess.run(  # noqa: S603 (a fixed program, arguments built here)
            command,
            env=environment,
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
    (workdir / "wapiti.log").write_text(output)  # what it did, next to its report
    assert report.exists(), f"wapiti wrote no report (exit {result.returncode}):\n{output[-4000:]}"
    crawled, attacked = _session_facts(session_dir)
    return WapitiRun(output, json.loads(report.read_text()), crawled, attacked)
